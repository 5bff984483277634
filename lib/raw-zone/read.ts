// Reading raw files back: what the ingestion checks need (schema, the writer's chain metadata, the
// first and last change, the newest commit) without holding more than one file.
import type { SchemaElement } from 'hyparquet' with { 'resolution-mode': 'import' };
import { CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN, PREVIOUS_SEQ_KEY } from './dms-file';
import type { RawFileSummary } from './checks';

export interface RawFileInfo extends RawFileSummary {
  schema: SchemaElement[];
  rows: number;
  newestCommitTimestamp: string;
  metadata: Record<string, string>;
}

export class UnreadableRawFileError extends Error {}

export async function readRawFileInfo(key: string, bytes: Uint8Array): Promise<RawFileInfo> {
  const { parquetMetadata, parquetReadObjects } = await import('hyparquet');
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let metadata;
  try {
    metadata = parquetMetadata(file);
  } catch (err) {
    throw new UnreadableRawFileError(`${key}: not a readable Parquet file: ${(err as Error).message}`);
  }
  const kv = Object.fromEntries((metadata.key_value_metadata ?? []).map((e) => [e.key, e.value ?? '']));
  const names = new Set(metadata.schema.map((e) => e.name));
  for (const required of [CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN]) {
    if (!names.has(required)) throw new UnreadableRawFileError(`${key}: no ${required} column: not a raw file in Danau's DMS layout`);
  }
  const rows = (await parquetReadObjects({ file, metadata, columns: [CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN] })) as Record<string, string>[];
  if (rows.length === 0) throw new UnreadableRawFileError(`${key}: holds no change`);
  let newest = rows[0]![COMMIT_TS_COLUMN]!;
  for (const r of rows) if (r[COMMIT_TS_COLUMN]! > newest) newest = r[COMMIT_TS_COLUMN]!;
  return {
    key,
    schema: metadata.schema,
    rows: rows.length,
    firstChangeSeq: rows[0]![CHANGE_SEQ_COLUMN]!,
    lastChangeSeq: rows[rows.length - 1]![CHANGE_SEQ_COLUMN]!,
    previousChangeSeq: kv[PREVIOUS_SEQ_KEY] ?? '',
    newestCommitTimestamp: newest,
    metadata: kv,
  };
}
