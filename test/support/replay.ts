// Replaying a table's raw files in consumption order, and reading the source table, both into the
// same canonical form, so a test can say: the raw zone reproduces the source exactly.
import type { S3Client } from '@aws-sdk/client-s3';
import type { RawTableRef } from '../../lib/raw-zone/keys';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { timestampMicros } from '../../lib/raw-zone/dms-file';
import { listTableFiles, readObject } from '../../lib/raw-zone/objects';
import { quoteSourceIdent, quoteSourceQualified } from '../../lib/sql/identifiers';
import type { LakeColumn } from '../../lib/tables/definition';

export type CanonicalRow = Record<string, string | null>;

/** The raw zone's own reader, keys only: the tests replay what production would read. */
export async function listRawKeys(s3: S3Client, bucket: string, ref: RawTableRef): Promise<string[]> {
  return (await listTableFiles(s3, bucket, ref)).map((k) => k.key);
}

export { readObject as getBytes };

const scaleOf = (lakeType: string) => Number(/^decimal\(\d+,(\d+)\)$/.exec(lakeType)?.[1] ?? 0);

/** A value as read from Parquet (hyparquet), in canonical form. */
function fromParquet(c: LakeColumn, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (c.lakeType.startsWith('decimal')) return Number(v).toFixed(scaleOf(c.lakeType));
  switch (c.lakeType) {
    case 'timestamp':
      return (v as Date).toISOString();
    case 'date':
      return (v as Date).toISOString().slice(0, 10);
    case 'binary':
      return Buffer.from(v as Uint8Array).toString('hex');
    case 'boolean':
      return v ? 't' : 'f';
    default:
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return v.toString();
      throw new Error(`column ${c.name}: unexpected ${typeof v} in a raw file`);
  }
}

/** A value in PostgreSQL's text form (TimeZone UTC), in canonical form. */
function fromPostgresText(c: LakeColumn, v: string | null): string | null {
  if (v === null) return null;
  if (c.lakeType.startsWith('decimal')) return Number(v).toFixed(scaleOf(c.lakeType));
  switch (c.lakeType) {
    case 'timestamp':
      return new Date(Number(timestampMicros(v) / 1000n)).toISOString();
    case 'binary':
      return v.replace(/^\\x/, '');
    case 'boolean': // ::text prints true/false; the replication stream sends t/f
      return v === 'true' || v === 't' ? 't' : 'f';
    default:
      return v;
  }
}

const rowKey = (primaryKey: string[], row: CanonicalRow) => primaryKey.map((k) => row[k]).join('|');

/** Applies every raw file of a table in order: I/U upsert by key, D deletes. */
export async function replayRawTable(s3: S3Client, bucket: string, ref: RawTableRef, columns: LakeColumn[], primaryKey: string[]): Promise<Map<string, CanonicalRow>> {
  const { parquetReadObjects } = await import('hyparquet');
  const state = new Map<string, CanonicalRow>();
  for (const key of await listRawKeys(s3, bucket, ref)) {
    const bytes = await readObject(s3, bucket, key);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({ file, utf8: false })) as Record<string, unknown>[];
    for (const r of rows) {
      const row: CanonicalRow = {};
      for (const c of columns) row[c.name] = fromParquet(c, r[c.name]);
      if (r.Op === 'D') state.delete(rowKey(primaryKey, row));
      else state.set(rowKey(primaryKey, row), row);
    }
  }
  return state;
}

export async function readPostgresTable(url: string, schema: string, table: string, columns: LakeColumn[], primaryKey: string[]): Promise<Map<string, CanonicalRow>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'");
    const { rows } = await client.query<Record<string, string | null>>({
      text: `SELECT ${columns.map((c) => `${quoteSourceIdent(c.name, 'postgres')}::text AS ${quoteSourceIdent(c.name, 'postgres')}`).join(', ')} FROM ${quoteSourceQualified(schema, table, 'postgres')}`,
      types: { getTypeParser: () => (v: string) => v },
    });
    const out = new Map<string, CanonicalRow>();
    for (const r of rows) {
      const row: CanonicalRow = {};
      for (const c of columns) row[c.name] = fromPostgresText(c, r[c.name] ?? null);
      out.set(rowKey(primaryKey, row), row);
    }
    return out;
  } finally {
    await client.end();
  }
}

/** A value as mysql2 gives it (dateStrings, big numbers as strings), in canonical form. */
function fromMysql(c: LakeColumn, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('hex');
  const text = typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
  if (c.lakeType.startsWith('decimal')) return Number(text).toFixed(scaleOf(c.lakeType));
  switch (c.lakeType) {
    case 'timestamp':
      return new Date(Number(timestampMicros(text) / 1000n)).toISOString();
    case 'boolean':
      return Number(text) ? 't' : 'f';
    case 'binary':
      return Buffer.from(text).toString('hex');
    default:
      return text;
  }
}

export async function readMysqlTable(url: string, schema: string, table: string, columns: LakeColumn[], primaryKey: string[]): Promise<Map<string, CanonicalRow>> {
  const conn = await mysql.createConnection({ uri: url, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, jsonStrings: true, timezone: 'Z' });
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT * FROM ${quoteSourceQualified(schema, table, 'mysql')}`);
    const out = new Map<string, CanonicalRow>();
    for (const r of rows) {
      const row: CanonicalRow = {};
      for (const c of columns) row[c.name] = fromMysql(c, r[c.name]);
      out.set(rowKey(primaryKey, row), row);
    }
    return out;
  } finally {
    await conn.end();
  }
}
