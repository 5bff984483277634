// One input schema per workflow, checked at the door: each workflow parses its input first, before it
// sets a search attribute or calls an activity, and the CLI and the schedules build their inputs
// through the same schemas. A run started by hand (`temporal workflow start --input …`) with a wrong
// field then fails at once, naming the workflow and the field, instead of leaving a workflow task that
// fails for ever (issue 12, item 4: `{"table": 5}` as a search attribute).
// Workflow-safe: zod is pure JS, and the table definition schema it reuses is too.
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { tableDefinitionSchema } from '../tables/definition';
import { ErrorType } from './errors';
import { parseTableKey } from './temporal';

/** What a value is, for a message: its kind, never the value itself (inputs may carry PHI). */
const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v === 'number' ? 'a number' : `a ${typeof v}`);

/** A field's message: what it should be, and what came instead when that was another kind of value. */
const expected =
  (what: string) =>
  (issue: { code?: string; input?: unknown; expected?: string }): string => {
    if (issue.input === undefined && issue.code === 'invalid_type') return `missing: expected ${what}`;
    // 1.5 for an integer is of the right kind, only not whole: no "got" then.
    if (issue.code === 'invalid_type' && !(issue.expected === 'int' && typeof issue.input === 'number')) return `expected ${what}, got ${kindOf(issue.input)}`;
    return `expected ${what}`;
  };

const TABLE = 'a string like source.schema.table';
const tableKey = z.string({ error: expected(TABLE) }).refine((v) => parseTableKey(v) !== null, { error: expected(TABLE) });
const name = (what: string) => z.string({ error: expected(what) }).min(1, { error: expected(what) });
const flag = z.boolean({ error: expected('true or false') });
const positiveInt = z.number({ error: expected('a positive integer') }).int({ error: expected('a positive integer') }).positive({ error: expected('a positive integer') });
const count = z.number({ error: expected('an integer of 0 or more') }).int({ error: expected('an integer of 0 or more') }).nonnegative({ error: expected('an integer of 0 or more') });
/** Minutes, hours, seconds: fractions are fine (tests use 0.04 minutes). */
const positive = z.number({ error: expected('a positive number') }).positive({ error: expected('a positive number') });
const nonNegative = z.number({ error: expected('a number of 0 or more') }).nonnegative({ error: expected('a number of 0 or more') });

const isCalendarDay = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v;
const day = z.string({ error: expected('a date YYYY-MM-DD') }).refine(isCalendarDay, { error: expected('a date YYYY-MM-DD') });
const partition = z.string({ error: expected('a day YYYY-MM-DD or a month YYYY-MM') }).regex(/^\d{4}-\d{2}(-\d{2})?$/, { error: expected('a day YYYY-MM-DD or a month YYYY-MM') });
const archiveLevel = z.enum(['day', 'month'], { error: expected('day or month') });
const rates = z.record(z.string(), nonNegative, { error: expected('an object of storage class: number') });
const prices = z.strictObject(
  {
    currency: name('a currency code'),
    storagePerGbMonth: rates,
    putPer1000: rates,
    getPer1000: rates,
    retrievalPerGb: rates,
    transitionPer1000: rates,
    minBillableBytes: rates,
    minDurationDays: rates,
  },
  { error: expected('an object of price overrides') },
).partial();

/**
 * Carried across continue-as-new: the known counts are checked and anything else is passed on as it
 * is (typed without the index signature, so the workflow's CaptureTotals interface stays assignable).
 */
const tally = z.looseObject({ changes: count, files: count }, { error: expected('an object {changes, files}') });
type CaptureTotals = { windows: number; changes: number; files: number; perTable: Record<string, { changes: number; files: number }> };
const captureTotals: z.ZodType<CaptureTotals, CaptureTotals> = z.looseObject(
  { windows: count, changes: count, files: count, perTable: z.record(z.string(), tally, { error: expected('an object of table: counts') }) },
  { error: expected('an object of capture totals') },
);

/** Every input is an object whose fields are all named: an unknown field is refused (a typo is not silently ignored). */
const input = <S extends z.core.$ZodLooseShape>(shape: S) => z.strictObject(shape, { error: expected('an object') });

/** The schema of each workflow's input, by workflow type (the names in workflows/index.ts). Defaults are the workflows' own. */
export const workflowInputSchemas = {
  /** A table definition (lib/tables/definition.ts), as `danau tables add` reads it. */
  onboardTable: tableDefinitionSchema.extend({
    /** Who asked for it, for the audit log. Defaults to the workflow id. */
    actor: name('who asked, for the audit log').optional(),
  }),
  checkStack: input({
    /** Run the Spark + Hudi smoke job (about a minute). Default true. */
    spark: flag.optional(),
  }),
  captureSource: input({
    /** The registered source (danau sources list). */
    source: name('a registered source name'),
    /** Seconds between windows (DMS's cdcMaxBatchInterval is 60). Default 60. */
    windowSeconds: positive.optional(),
    /** About how many changes one window takes at most. Default 50,000. */
    maxChanges: positiveInt.optional(),
    /** Stop after this many windows (for backfills and tests); default: run until cancelled. */
    maxWindows: positiveInt.nullable().optional(),
    /** Carried across continue-as-new. */
    totals: captureTotals.optional(),
    paused: flag.optional(),
  }),
  checkIngestion: input({ table: tableKey }),
  checkSource: input({
    /** A registered source, or the name of the one being registered when `definition` is given. */
    source: name('a source name'),
    /** A source not (yet) recorded: checked as given, so a broken one need not be recorded first. */
    definition: z
      .strictObject(
        {
          engine: z.enum(['mysql', 'postgres'], { error: expected('mysql or postgres') }),
          databaseName: name('a database name'),
          connectionSecret: name('an environment variable or a secret'),
        },
        { error: expected('an object {engine, databaseName, connectionSecret}') },
      )
      .optional(),
  }),
  reconcileTable: input({ table: tableKey }),
  syncDmsTask: input({
    /** A source registered in the control plane (danau sources). */
    source: name('a registered source name'),
    replicationInstanceArn: name('an ARN'),
    sourceEndpointArn: name('an ARN'),
    /** The S3 target endpoint writing the raw zone. */
    targetEndpointArn: name('an ARN'),
    /** For a task that does not exist yet. Default full-load-and-cdc. */
    migrationType: z.enum(['full-load-and-cdc', 'cdc'], { error: expected('full-load-and-cdc or cdc') }).optional(),
    /** Default running: start (or resume) the task. `stopped` stops it. */
    desiredState: z.enum(['running', 'stopped'], { error: expected('running or stopped') }).optional(),
    /** Seconds between DescribeReplicationTasks polls. Default 15. */
    pollSeconds: positive.optional(),
    /** Give up waiting for DMS after this many minutes. Default 30. */
    waitMinutes: positive.optional(),
  }),
  upsertLakeTable: input({
    table: tableKey,
    /** A batch stops growing at this many bytes of raw files. Default 256 MiB. */
    maxBatchBytes: positiveInt.optional(),
    /** And at this many files. Default 1000. */
    maxBatchFiles: positiveInt.optional(),
    /** Stop after this many batches (the rest waits for the next run). Default 20. */
    maxBatches: positiveInt.optional(),
    /**
     * A job attempt whose worker stopped heartbeating for this long is retried (attaching to its EMR
     * step, or stopping the orphaned local job first). Default 120; EMR is polled every 15 s.
     */
    jobHeartbeatTimeoutSeconds: positive.optional(),
  }),
  buildModels: input({
    /** Build these models (and nothing else); default every enabled model. */
    models: z.array(name('a model name'), { error: expected('a list of model names') }).optional(),
    /** Refresh reporting objects afterwards. Default true. */
    refreshReporting: flag.optional(),
  }),
  checkModels: input({
    /** Check these models; default every enabled model. */
    models: z.array(name('a model name'), { error: expected('a list of model names') }).optional(),
  }),
  archivePartition: input({
    table: tableKey,
    /** YYYY-MM-DD (day) or YYYY-MM (month). */
    partition,
    /** Default: the table's archiveLevel. */
    level: archiveLevel.optional(),
    /** Stop before deleting, report, and wait for the approveDelete signal. */
    requireApproval: flag.optional(),
    /** How long to wait for approval before ending without deleting. Default 168 (a week). */
    approvalTimeoutHours: positive.optional(),
    /** Read every entry back and check its CRC-32 before deleting anything. Default true. */
    deepVerify: flag.optional(),
    /** Keys per DeleteObjects request (at most 1,000). Default 1,000. */
    deleteBatchKeys: positiveInt.optional(),
    /** A worker that stops heartbeating for this long is presumed dead and its step retried. Default 60. */
    heartbeatTimeoutSeconds: positive.optional(),
    /** Price overrides for the projected saving. */
    prices: prices.optional(),
  }),
  archiveTables: input({
    /** source.schema.table names; default every onboarded table. */
    tables: z.array(tableKey, { error: expected('a list of source.schema.table names') }).optional(),
    /** The date the thresholds count back from (ISO); default the run's start. */
    asOf: z.string({ error: expected('an ISO date or date-time') }).refine((v) => !Number.isNaN(Date.parse(v)), { error: expected('an ISO date or date-time') }).optional(),
    /** Scan and estimate only: nothing is archived. */
    dryRun: flag.optional(),
    /** At most this many partitions per run (the rest wait for the next). Default 200. */
    maxPartitions: positiveInt.optional(),
    /** Partitions archived at once. Default 2. */
    concurrency: positiveInt.optional(),
    /** Passed to each partition: wait for approveDelete (signalled to the partition's own workflow). */
    requireApproval: flag.optional(),
    deepVerify: flag.optional(),
    prices: prices.optional(),
    /** Zip bytes per original byte, for the estimate before zips exist. Default 0.9. */
    compressionRatio: positive.optional(),
    heartbeatTimeoutSeconds: positive.optional(),
  }),
  recoverTable: input({
    table: tableKey,
    /** YYYY-MM-DD, inclusive: files are chosen by the commit date in their key. */
    startDate: day,
    endDate: day,
    /** Prepended to each original key (e.g. `recovered/2024-05/`); default: the original keys. */
    targetPrefix: z.string({ error: expected('a key prefix') }).optional(),
    /** Default: the raw bucket. */
    targetBucket: name('a bucket name').optional(),
    /** Uploads at once within an archive. Default 8. */
    concurrency: positiveInt.optional(),
    /** Archives recovered at once. Default 2. */
    archiveConcurrency: positiveInt.optional(),
    heartbeatTimeoutSeconds: positive.optional(),
  }),
  runTablePipeline: input({
    /** As onboarded. */
    table: tableKey,
    /** Lake batches in one run (the rest waits for the next). Default 20. */
    maxBatches: positiveInt.optional(),
    /** Alert when the run is still going this many minutes after it started. Default: the table's freshness SLA. */
    freshnessDeadlineMinutes: positive.optional(),
  }),
  reprocessFailedEvents: input({
    /** Events taken in one run. Default 100. */
    limit: positiveInt.optional(),
    /** Attempts before an event goes to the dead letter. Default 5. */
    maxAttempts: positiveInt.optional(),
    /** Wait before the second attempt, doubling after each (capped at a day). Default 300. */
    backoffSeconds: nonNegative.optional(),
    /** Events retried at once. Default 4. */
    concurrency: positiveInt.optional(),
    /** Retry these events now, whatever their next attempt time (pending or dead-lettered ones). */
    eventIds: z.array(positiveInt, { error: expected('a list of event ids') }).optional(),
  }),
  /** One failed event's set-aside rows, replayed (a child of reprocessFailedEvents). */
  replayLakeEvent: input({
    table: tableKey,
    eventId: positiveInt,
    attempt: count,
    errorType: z.enum([ErrorType.StaleChange, ErrorType.UncastableValue], { error: expected('StaleChange or UncastableValue') }),
    dataRef: z.strictObject({ uri: name('an s3:// URI'), batchId: name('a batch id'), rows: count }, { error: expected('an object {uri, batchId, rows}') }),
  }),
  backfillTable: input({
    table: tableKey,
    /** YYYY-MM-DD, inclusive: raw files are chosen by the commit date in their key (UTC). */
    startDate: day,
    endDate: day,
    /** Recover the range's archived raw files first. Default true. */
    recover: flag.optional(),
    /** Build the models reading the table afterwards, and refresh reporting. Default true. */
    rebuildModels: flag.optional(),
    /** Also apply the full-load files again (their keys carry no date). Default false. */
    includeLoad: flag.optional(),
    /** Batch limits, as the lake step's. Default 256 MiB, 1000 files. */
    maxBatchBytes: positiveInt.optional(),
    maxBatchFiles: positiveInt.optional(),
    /** How long to wait for a busy child id (the table's lake step, say) before failing. Default 60. */
    waitMinutes: nonNegative.optional(),
    /** How often to try a busy child id again. Default 30. */
    waitPollSeconds: positive.optional(),
    jobHeartbeatTimeoutSeconds: positive.optional(),
  }),
  /** The lake part of a backfill (a child of backfillTable, under the table's lake-upsert id). */
  reapplyLakeRange: input({
    table: tableKey,
    startDate: day,
    endDate: day,
    /** The backfill run this belongs to: its batches' ids derive from it. */
    backfillId: name('the backfill run id'),
    /** The backfill's workflow id, recorded with the plan. */
    backfillWorkflowId: name('a workflow id').optional(),
    includeLoad: flag.optional(),
    maxBatchBytes: positiveInt.optional(),
    maxBatchFiles: positiveInt.optional(),
    jobHeartbeatTimeoutSeconds: positive.optional(),
  }),
} as const;

export type WorkflowName = keyof typeof workflowInputSchemas;
/** What a caller passes to the workflow (the workflow's declared input type). */
export type WorkflowInput<N extends WorkflowName> = z.input<(typeof workflowInputSchemas)[N]>;
/** What the workflow works with after the check (only onboardTable's differs: its defaults filled in). */
export type CheckedWorkflowInput<N extends WorkflowName> = z.output<(typeof workflowInputSchemas)[N]>;

/** `a.b[0]`: where in the input an issue is. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** One line per problem, each naming the field: `table: expected a string like source.schema.table`. */
export function describeInputIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((i) => {
    const at = fieldOf(i.path);
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${at ? `${at}.` : ''}${k}: unknown field`);
    return [at ? `${at}: ${i.message}` : i.message];
  });
}

/**
 * The input checked against the workflow's schema, or a non-retryable InvalidWorkflowInput failure:
 * thrown in workflow code it fails the run at once (not its task), and the CLI reports its message.
 */
export function parseWorkflowInput<N extends WorkflowName>(workflow: N, value: unknown): CheckedWorkflowInput<N> {
  const schema: z.ZodType = workflowInputSchemas[workflow];
  const result = schema.safeParse(value);
  // The schema is the one of `workflow`: its output is that workflow's checked input.
  if (result.success) return result.data as CheckedWorkflowInput<N>;
  const problems = describeInputIssues(result.error.issues);
  throw ApplicationFailure.create({
    type: ErrorType.InvalidWorkflowInput,
    message: `${workflow} input: ${problems.join('; ')}`,
    nonRetryable: true,
    details: [{ workflow, problems }],
  });
}
