// Reading the raw zone in S3: a table's files in consumption order, and replaying their keys.
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { OP_COLUMN } from './dms-file';
import { compareRawKeys, parseRawKey, tablePrefix, type RawKey, type RawTableRef } from './keys';

/** A table's raw files, ordered as they are consumed (full load first, then CDC by name). */
export async function listTableFiles(s3: S3Client, bucket: string, ref: RawTableRef): Promise<(RawKey & { size: number })[]> {
  const keys: (RawKey & { size: number })[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: tablePrefix(ref), ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push({ ...parseRawKey(o.Key), size: o.Size ?? 0 });
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort(compareRawKeys);
}

export async function readObject(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!res.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return res.Body.transformToByteArray();
}

/** A key as text: the primary-key values joined by `|`, numbers without type decoration. */
export function keyText(values: unknown[]): string {
  return values
    .map((v) => (v === null || v === undefined ? '' : typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : JSON.stringify(v)))
    .join('|');
}

/**
 * The set of keys the raw zone implies for a table: every file applied in order, inserts and
 * updates adding their key, deletes removing it. Reads only the Op and key columns.
 */
export async function replayKeys(s3: S3Client, bucket: string, ref: RawTableRef, primaryKey: string[], onFile?: (key: string) => void): Promise<Set<string>> {
  const { parquetReadObjects } = await import('hyparquet');
  const keys = new Set<string>();
  for (const f of await listTableFiles(s3, bucket, ref)) {
    const bytes = await readObject(s3, bucket, f.key);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({ file, columns: [OP_COLUMN, ...primaryKey] })) as Record<string, unknown>[];
    for (const r of rows) {
      const k = keyText(primaryKey.map((c) => r[c]));
      if (r[OP_COLUMN] === 'D') keys.delete(k);
      else keys.add(k);
    }
    onFile?.(f.key);
  }
  return keys;
}

/** An order-independent checksum of a key set: the sum of each key's MD5 prefix, mod 2^64. */
export function keySetChecksum(keys: Iterable<string>): string {
  let sum = 0n;
  for (const k of keys) sum = (sum + createHash('md5').update(k).digest().readBigUInt64BE(0)) & 0xffffffffffffffffn;
  return sum.toString(16).padStart(16, '0');
}
