// Planning lake batches and describing them to the lake job (scripts/spark/lake_job.py). Planning is
// pure, so the same files always make the same batch id, and a re-planned batch is recognisable.
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DanauConfig } from '../config';
import type { TableRecord } from '../control-plane/store';
import { tableKey } from '../common/temporal';

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

export interface LakeUpsertSpec {
  batchId: string;
  table: string;
  hudiTableName: string;
  basePath: string;
  /** The table's change log: every change, keyed by (primary key, change sequence), for SCD2 models. */
  changelogBasePath: string;
  files: string[];
  columns: { name: string; lakeType: string }[];
  primaryKey: string[];
  precombineField: string;
  partitionField: string;
  timezone: string;
  tableType: TableRecord['hudiTableType'];
  indexType: TableRecord['hudiIndexType'];
  cleanerCommitsRetained: number;
  compactionDeltaCommits: number;
  resultUri: string;
  quarantineUri: string;
  staleUri: string;
  /** Production: sync to the Glue Data Catalog (database name). */
  catalog: { type: 'glue'; database: string } | null;
}

export function buildUpsertSpec(config: Pick<DanauConfig, 'buckets' | 'timezone'>, table: TableRecord, batchId: string, files: RawFile[], catalog: LakeUpsertSpec['catalog'] = null): LakeUpsertSpec {
  const at = batchLocations(config, batchId);
  return {
    batchId,
    table: tableKey({ source: table.sourceName, schema: table.schemaName, table: table.tableName }),
    hudiTableName: hudiTableName(table),
    basePath: lakeBasePath(config, table),
    changelogBasePath: changelogBasePath(config, table),
    files: files.map((f) => `s3://${config.buckets.raw}/${f.key}`),
    columns: table.columns.map((c) => ({ name: c.name, lakeType: c.lakeType })),
    primaryKey: table.primaryKey,
    precombineField: table.precombineField,
    partitionField: table.partitionField,
    timezone: config.timezone,
    tableType: table.hudiTableType,
    indexType: table.hudiIndexType,
    cleanerCommitsRetained: table.cleanerCommitsRetained,
    compactionDeltaCommits: table.compactionDeltaCommits,
    resultUri: `s3://${config.buckets.processed}/${at.resultKey}`,
    quarantineUri: at.quarantineUri,
    staleUri: at.staleUri,
    catalog,
  };
}

/** The lake job's result object for an upsert. */
export interface LakeUpsertResult {
  ok: boolean;
  error?: string;
  batchId: string;
  instant: string | null;
  /** The change log's instant for this batch (null when it had no change). */
  changelogInstant: string | null;
  alreadyApplied: boolean;
  rowsRead: number;
  rowsUpserted: number;
  rowsDeleted: number;
  rowsStale: number;
  rowsDuplicate: number;
  rowsQuarantined: number;
  rowsMoved: number;
  seconds: number;
}
