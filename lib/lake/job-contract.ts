// The lake job's contract: what TypeScript hands scripts/spark/danau_lake for each command (a spec
// in S3) and what it gets back (a result object). One schema each, here; the job reads the same
// schemas as JSON Schema (scripts/spark/danau_lake/contract.schema.json, written by
// `npm run contract`, checked by test/unit/lake-job-contract.test.ts), checks every spec on arrival
// and reports its own error type on failure.
import { z } from 'zod';

/** The Hudi indexes a table may use (README, "Onboarding a table"). */
export const HUDI_INDEX_TYPES = ['BLOOM', 'GLOBAL_BLOOM', 'RECORD_INDEX'] as const;
export type HudiIndexType = (typeof HUDI_INDEX_TYPES)[number];

const instant = z.string().regex(/^\d+$/, 'a Hudi instant (digits)');
const s3Uri = z.string().regex(/^s3a?:\/\/[^/]+\//, 'an s3:// URI');
const name = z.string().min(1);

const column = z.strictObject({ name, sourceName: name, lakeType: name });

/** What every write spec shares: the table, its layout and its settings. */
const tableWrite = {
  batchId: name,
  table: name,
  hudiTableName: name,
  basePath: s3Uri,
  /** The table's change log: every change, keyed by (primary key, change sequence), for SCD2 models. */
  changelogBasePath: s3Uri,
  /** Deleted keys with their delete's change sequence, so a late older change stays set aside. */
  tombstonesBasePath: s3Uri,
  /** `name` is the lake name; `sourceName` the raw files' (the job renames on read). */
  columns: z.array(column).min(1),
  /** Lake names, as are the precombine and partition fields. */
  primaryKey: z.array(name).min(1),
  precombineField: name,
  partitionField: name,
  timezone: name,
  tableType: z.enum(['COPY_ON_WRITE', 'MERGE_ON_READ']),
  indexType: z.enum(HUDI_INDEX_TYPES),
  cleanerCommitsRetained: z.number().int().min(1),
  compactionDeltaCommits: z.number().int().min(1),
  resultUri: s3Uri,
  /** Production: sync to the Glue Data Catalog (database name). */
  catalog: z.strictObject({ type: z.literal('glue'), database: name }).nullable(),
};

export const lakeUpsertSpec = z.strictObject({
  ...tableWrite,
  files: z.array(s3Uri),
  quarantineUri: s3Uri,
  staleUri: s3Uri,
  /**
   * A backfill's batch: a change equal to the stored row's is applied again when the row it makes now
   * differs; older changes are superseded, not set aside. Absent otherwise.
   */
  reapply: z.literal(true).optional(),
});

export const lakeReplaySpec = z.strictObject({
  ...tableWrite,
  replayId: name,
  eventId: z.number().int(),
  /** The batch that set the rows aside. */
  sourceBatchId: name,
  kind: z.enum(['quarantine', 'stale']),
  /** The set-aside rows to replay (JSON, as the upsert or a previous replay wrote them). */
  setAsideUri: s3Uri,
  /** Where rows that are still set aside go, in the same format. */
  stillSetAsideUri: s3Uri,
});

export const lakeTableRef = z.strictObject({
  /** The view name, e.g. clinic_clinic_patients. */
  name,
  basePath: s3Uri,
  tableType: z.enum(['COPY_ON_WRITE', 'MERGE_ON_READ']).optional(),
  cleanerCommitsRetained: z.number().int().min(1).optional(),
  /** Registers `<name>_changes`: the commits after `beginInstant` (up to `endInstant`). */
  incremental: z.strictObject({ beginInstant: z.string(), endInstant: z.string().optional(), onCleaned: z.enum(['fail', 'full']).optional() }).optional(),
});

export const lakeQuerySpec = z.strictObject({ tables: z.array(lakeTableRef), sql: z.string().min(1), maxRows: z.number().int().min(1), resultUri: s3Uri });

export const lakeExportSpec = z.strictObject({
  table: z.strictObject({ name, basePath: s3Uri, cleanerCommitsRetained: z.number().int().min(1) }),
  beginInstant: z.string(),
  columns: z.array(name).min(1),
  outputUri: s3Uri,
  resultUri: s3Uri,
});

const count = z.number().int().min(0);

const writeFigures = {
  ok: z.literal(true),
  batchId: name,
  instant: instant.nullable(),
  /** The change log's instant for this batch (null when it had no change). */
  changelogInstant: instant.nullable(),
  alreadyApplied: z.boolean(),
  rowsRead: count,
  rowsUpserted: count,
  /** Of rowsUpserted, changes equal to the stored row's applied again (a reapply; 0 otherwise). */
  rowsReapplied: count.optional(),
  rowsDeleted: count,
  /** Older than the stored row: set aside by an upsert, superseded (left alone) in a reapply. */
  rowsStale: count,
  /** The stored row already is this change (a reapply: and would not change). */
  rowsDuplicate: count,
  rowsQuarantined: count,
  rowsMoved: count,
  seconds: z.number(),
  /** Seconds per stage of the job (read, change log, guard, set aside, tombstones, write). */
  stages: z.record(z.string(), z.number()).optional(),
};

export const lakeUpsertResult = z.object(writeFigures);

export const lakeReplayResult = z.object({
  ...writeFigures,
  replayId: name,
  kind: z.enum(['quarantine', 'stale']),
  setAsideUri: z.string(),
  /** Rows in the set-aside location. */
  rowsSetAside: count,
  rowsNotFound: count,
  rowsStillSetAside: count,
  stillSetAsideUri: z.string().nullable(),
  /** Up to three reasons of rows still set aside. */
  samples: z.array(z.string()),
});

const incrementalReport = z.object({
  table: z.string(),
  beginInstant: z.string(),
  endInstant: z.string().nullable().optional(),
  /** The start is older than what the cleaner keeps: an incremental pull could miss changes. */
  startCleaned: z.boolean(),
  fallback: z.enum(['full-scan']).nullable(),
  latestInstant: z.string().nullable().optional(),
  earliestSafeInstant: z.string().nullable().optional(),
});

export const lakeQueryResult = z.object({
  ok: z.literal(true),
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.unknown())),
  truncated: z.boolean(),
  incremental: z.array(incrementalReport),
  seconds: z.number(),
});

export const lakeExportResult = z.object({ ok: z.literal(true), rows: count, outputUri: z.string().nullable(), incremental: incrementalReport, seconds: z.number() });

/**
 * Every error type the job reports. LakeEngineError is the engine or the store failing (retryable);
 * the others are the input's or the table's (not).
 */
export const LAKE_JOB_ERROR_TYPES = ['LakeJobError', 'InvalidLakeJobSpec', 'ReplayDataMissing', 'IncrementalStartCleaned', 'LakeDataError', 'LakeEngineError'] as const;

export const lakeJobFailure = z.object({ ok: z.literal(false), errorType: z.enum(LAKE_JOB_ERROR_TYPES), retryable: z.boolean(), error: z.string() });

export const LAKE_JOB_CONTRACT = {
  upsert: { spec: lakeUpsertSpec, result: lakeUpsertResult },
  replay: { spec: lakeReplaySpec, result: lakeReplayResult },
  query: { spec: lakeQuerySpec, result: lakeQueryResult },
  export: { spec: lakeExportSpec, result: lakeExportResult },
} as const;

export type LakeJobCommand = keyof typeof LAKE_JOB_CONTRACT;
export type LakeJobSpec<C extends LakeJobCommand> = z.input<(typeof LAKE_JOB_CONTRACT)[C]['spec']>;
export type LakeJobResult<C extends LakeJobCommand> = z.output<(typeof LAKE_JOB_CONTRACT)[C]['result']>;
export type LakeJobErrorType = (typeof LAKE_JOB_ERROR_TYPES)[number];

export type LakeUpsertSpec = z.input<typeof lakeUpsertSpec>;
export type LakeReplaySpec = z.input<typeof lakeReplaySpec>;
export type LakeUpsertResult = z.output<typeof lakeUpsertResult>;
export type LakeReplayResult = z.output<typeof lakeReplayResult>;
export type LakeTableRef = z.input<typeof lakeTableRef>;

/** The contract as JSON Schema, for the Python side (contract.schema.json). */
export function lakeJobContractJsonSchema(): { specs: Record<LakeJobCommand, unknown>; results: Record<LakeJobCommand, unknown>; failure: unknown } {
  const commands = Object.keys(LAKE_JOB_CONTRACT) as LakeJobCommand[];
  const json = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
  return {
    specs: Object.fromEntries(commands.map((c) => [c, json(LAKE_JOB_CONTRACT[c].spec)])) as Record<LakeJobCommand, unknown>,
    results: Object.fromEntries(commands.map((c) => [c, json(LAKE_JOB_CONTRACT[c].result)])) as Record<LakeJobCommand, unknown>,
    failure: json(lakeJobFailure),
  };
}
