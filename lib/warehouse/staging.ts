// Staging a model's pull in the warehouse: the lake job wrote the changes as Parquet in S3; Redshift
// loads them with COPY … FORMAT AS PARQUET straight from S3, PostgreSQL through COPY FROM STDIN
// (pg-copy-streams), one file at a time so memory holds one file's rows, not the pull's.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { readObject } from '../raw-zone/objects';
import { quoteIdent, quoteQualified } from '../sql/identifiers';

export interface StagingColumn {
  name: string;
  /** Warehouse type, e.g. numeric(12,2), timestamp, varchar(65535). */
  type: string;
}

export function createStagingTable(schema: string, table: string, columns: StagingColumn[]): string[] {
  return [
    `DROP TABLE IF EXISTS ${quoteQualified(schema, table)}`,
    `CREATE TABLE ${quoteQualified(schema, table)} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`,
  ];
}

/** Redshift: one COPY from the export's prefix (the role must read the processed bucket). */
export function redshiftCopyStatement(schema: string, table: string, prefixUri: string, iamRoleArn: string): string {
  return `COPY ${quoteQualified(schema, table)} FROM '${prefixUri.replace(/'/g, "''")}' IAM_ROLE '${iamRoleArn.replace(/'/g, "''")}' FORMAT AS PARQUET`;
}

async function parquetKeys(s3: S3Client, uri: string): Promise<{ bucket: string; keys: string[] }> {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  const bucket = m[1]!;
  const prefix = m[2]!.endsWith('/') ? m[2]! : `${m[2]}/`;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key?.endsWith('.parquet')) keys.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  return { bucket, keys: keys.sort() };
}

/** A Parquet value as CSV text for COPY (empty unquoted field = NULL). */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let text: string;
  if (v instanceof Date) text = v.toISOString().replace('T', ' ').replace('Z', '');
  else if (v instanceof Uint8Array) text = Buffer.from(v).toString('hex');
  else if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') text = v.toString();
  else if (typeof v === 'string') text = v;
  else text = JSON.stringify(v);
  return `"${text.replace(/"/g, '""')}"`;
}

/** PostgreSQL: every Parquet file under the prefix into the staging table. Returns the rows loaded. */
export async function loadStagingPostgres(pool: pg.Pool, s3: S3Client, uri: string, schema: string, table: string, columns: StagingColumn[]): Promise<number> {
  const { parquetReadObjects } = await import('hyparquet');
  const { bucket, keys } = await parquetKeys(s3, uri);
  const client = await pool.connect();
  let loaded = 0;
  try {
    for (const key of keys) {
      const bytes = await readObject(s3, bucket, key);
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
      const lines = rows.map((r) => `${columns.map((c) => csvField(r[c.name])).join(',')}\n`);
      const sink = client.query(copyFrom(`COPY ${quoteQualified(schema, table)} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN WITH (FORMAT csv)`));
      await pipeline(Readable.from(lines), sink);
      loaded += rows.length;
    }
  } finally {
    client.release();
  }
  return loaded;
}
