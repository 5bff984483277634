// Planning lake batches and describing them to the lake job (scripts/spark/lake_job.py). Planning is
// pure, so the same files always make the same batch id, and a re-planned batch is recognisable.
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DanauConfig } from '../config';
import type { TableRecord } from '../control-plane/store';
import { tableKey } from '../common/temporal';
import type { RawKey } from '../raw-zone/keys';
import { lakeNameOf } from '../tables/lake-names';

export interface RawFile {
  key: string;
  size: number;
}

export interface BatchLimits {
  /** Stop adding files once a batch holds this many bytes (at least one file always goes in). */
  maxBytes: number;
  maxFiles: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBytes: 256 * 1024 * 1024, maxFiles: 1000 };

/** The next batch: the first unconsumed files in consumption order, up to the limits. */
export function nextBatch(ordered: RawFile[], consumed: ReadonlySet<string>, limits: BatchLimits): RawFile[] {
  const batch: RawFile[] = [];
  let bytes = 0;
  for (const f of ordered) {
    if (consumed.has(f.key)) continue;
    if (batch.length > 0 && (bytes + f.size > limits.maxBytes || batch.length >= limits.maxFiles)) break;
    batch.push(f);
    bytes += f.size;
  }
  return batch;
}

/** Every batch of `ordered`, in order, each as nextBatch would make it from what the ones before left. */
export function planBatches<T extends RawFile>(ordered: T[], limits: BatchLimits): T[][] {
  const batches: T[][] = [];
  const taken = new Set<string>();
  for (let batch = nextBatch(ordered, taken, limits) as T[]; batch.length > 0; batch = nextBatch(ordered, taken, limits) as T[]) {
    batches.push(batch);
    for (const f of batch) taken.add(f.key);
  }
  return batches;
}

/**
 * The raw files a backfill of [startDate, endDate] (YYYY-MM-DD, inclusive) reads again, in
 * consumption order: the CDC files whose key's commit date (UTC, of the file's first change) is in
 * the range, whether the lake step consumed them yet or not; and the full-load files only when
 * `includeLoad` (their keys carry no date: a full load is a snapshot, not the changes of a day).
 */
export function filesInRange<T extends RawKey & RawFile>(ordered: T[], startDate: string, endDate: string, includeLoad = false): T[] {
  return ordered.filter((f) => (f.kind === 'load' ? includeLoad : f.date !== undefined && f.date >= startDate && f.date <= endDate));
}

/**
 * `<source>.<schema>.<table>-reapply-<16 hex>` over the backfill and its files: one backfill's batch
 * keeps its id across retries (so the job finds its commit), and a later backfill of the same files
 * gets new ids (so its commits are not mistaken for the earlier one's).
 */
export function reapplyBatchId(table: TableRecord, backfillId: string, files: RawFile[]): string {
  const digest = createHash('sha256').update([backfillId, ...files.map((f) => f.key)].join('\n')).digest('hex').slice(0, 16);
  return `${tableKey({ source: table.sourceName, schema: table.schemaName, table: table.tableName })}-reapply-${digest}`;
}

/** `<source>.<schema>.<table>-<16 hex of the file list>`: the same files, the same id. */
export function lakeBatchId(table: TableRecord, files: RawFile[]): string {
  const digest = createHash('sha256').update(files.map((f) => f.key).join('\n')).digest('hex').slice(0, 16);
  return `${tableKey({ source: table.sourceName, schema: table.schemaName, table: table.tableName })}-${digest}`;
}

export function hudiTableName(table: Pick<TableRecord, 'sourceName' | 'schemaName' | 'tableName'>): string {
  return `${table.sourceName}_${table.schemaName}_${table.tableName}`;
}

export function lakeBasePath(config: Pick<DanauConfig, 'buckets'>, table: Pick<TableRecord, 'sourceName' | 'schemaName' | 'tableName'>): string {
  return `s3://${config.buckets.processed}/${table.sourceName}/${table.schemaName}/${table.tableName}`;
}

export function changelogBasePath(config: Pick<DanauConfig, 'buckets'>, table: Pick<TableRecord, 'sourceName' | 'schemaName' | 'tableName'>): string {
  return `${lakeBasePath(config, table)}__changelog`;
}

/** The table's tombstones: the last delete of each deleted key, for the ordering guard (lake_job.py). */
export function tombstonesBasePath(config: Pick<DanauConfig, 'buckets'>, table: Pick<TableRecord, 'sourceName' | 'schemaName' | 'tableName'>): string {
  return `${lakeBasePath(config, table)}__tombstones`;
}

/**
 * A Hudi table can be read once a write completed: `.hoodie/<instant>.commit` (or `.deltacommit`).
 * A first write that was killed leaves `.hoodie/` without one, and reads as a relation with no columns.
 */
export async function lakeTableExists(s3: S3Client, basePath: string): Promise<boolean> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(basePath);
  if (!m) return false;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: m[1], Prefix: `${m[2]}/.hoodie/`, Delimiter: '/', ContinuationToken: token })).catch(() => null);
    if (!page) return false;
    if ((page.Contents ?? []).some((o) => /\/\d+\.(commit|deltacommit)$/.test(o.Key ?? ''))) return true;
    token = page.NextContinuationToken;
  } while (token);
  return false;
}

/**
 * The newest completed write instant in a Hudi table's timeline (`.hoodie/<instant>.commit`,
 * `.deltacommit` or `.replacecommit`), or null when it has none (or does not exist).
 */
export async function latestCompletedInstant(s3: S3Client, basePath: string): Promise<string | null> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(basePath);
  if (!m) return null;
  let latest: string | null = null;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: m[1], Prefix: `${m[2]}/.hoodie/`, Delimiter: '/', ContinuationToken: token })).catch(() => null);
    if (!page) return latest;
    for (const o of page.Contents ?? []) {
      const instant = /\/(\d+)\.(commit|deltacommit|replacecommit)$/.exec(o.Key ?? '')?.[1];
      if (instant && (latest === null || instant.length > latest.length || (instant.length === latest.length && instant > latest))) latest = instant;
    }
    token = page.NextContinuationToken;
  } while (token);
  return latest;
}

/** Where a batch's spec, result and set-aside rows live. */
export function batchLocations(config: Pick<DanauConfig, 'buckets'>, batchId: string): { specKey: string; resultKey: string; quarantineUri: string; staleUri: string } {
  const prefix = `_danau/batches/${batchId}`;
  return {
    specKey: `${prefix}/spec.json`,
    resultKey: `${prefix}/result.json`,
    quarantineUri: `s3://${config.buckets.processed}/${prefix}/quarantine/`,
    staleUri: `s3://${config.buckets.processed}/${prefix}/stale/`,
  };
}

import type { LakeUpsertSpec } from './job-contract';

export type { LakeUpsertResult, LakeUpsertSpec } from './job-contract';

export function buildUpsertSpec(
  config: Pick<DanauConfig, 'buckets' | 'timezone'>,
  table: TableRecord,
  batchId: string,
  files: RawFile[],
  catalog: LakeUpsertSpec['catalog'] = null,
  options: { reapply?: boolean } = {},
): LakeUpsertSpec {
  const at = batchLocations(config, batchId);
  return {
    batchId,
    table: tableKey({ source: table.sourceName, schema: table.schemaName, table: table.tableName }),
    hudiTableName: hudiTableName(table),
    basePath: lakeBasePath(config, table),
    changelogBasePath: changelogBasePath(config, table),
    tombstonesBasePath: tombstonesBasePath(config, table),
    files: files.map((f) => `s3://${config.buckets.raw}/${f.key}`),
    columns: table.columns.map((c) => ({ name: c.lakeName, sourceName: c.name, lakeType: c.lakeType })),
    primaryKey: table.primaryKey.map((k) => lakeNameOf(table.columns, k)),
    precombineField: lakeNameOf(table.columns, table.precombineField),
    partitionField: lakeNameOf(table.columns, table.partitionField),
    timezone: config.timezone,
    tableType: table.hudiTableType,
    indexType: table.hudiIndexType,
    cleanerCommitsRetained: table.cleanerCommitsRetained,
    compactionDeltaCommits: table.compactionDeltaCommits,
    resultUri: `s3://${config.buckets.processed}/${at.resultKey}`,
    quarantineUri: at.quarantineUri,
    staleUri: at.staleUri,
    catalog,
    ...(options.reapply ? { reapply: true as const } : {}),
  };
}

