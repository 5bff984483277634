// Production CDC: the AWS DMS replication task that stands where the local capture stands on one
// machine. From control-plane rows it builds the table mappings, the S3 target endpoint settings and
// the task settings, so that DMS writes the same raw zone the local capture writes
// (lib/raw-zone/dms-file.ts, lib/raw-zone/keys.ts): Parquet under <schema>/<table>/, full load as
// LOADxxxxxxxx files, CDC under YYYY/MM/DD/ by commit date, with the `Op`, commit timestamp and
// change-sequence columns. The builders are pure (unit-tested); DmsTaskManager turns them into
// DescribeReplicationTasks / Create / Modify / Start / Stop calls on a client it is given.
import { createHash } from 'node:crypto';
import {
  CreateReplicationTaskCommand,
  DataFormatValue,
  DatePartitionDelimiterValue,
  DatePartitionSequenceValue,
  DescribeEndpointsCommand,
  type DescribeEndpointsCommandOutput,
  DescribeReplicationTasksCommand,
  EncryptionModeValue,
  ModifyReplicationTaskCommand,
  ParquetVersionValue,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
  type CreateReplicationTaskCommandOutput,
  type DatabaseMigrationServiceClient,
  type DescribeReplicationTasksCommandOutput,
  type ModifyReplicationTaskCommandOutput,
  type ReplicationTask,
  type S3Settings,
  type StartReplicationTaskCommandOutput,
  type StartReplicationTaskTypeValue,
  type StopReplicationTaskCommandOutput,
} from '@aws-sdk/client-database-migration-service';
import type { TableRecord } from '../control-plane/store';
import { CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN } from '../raw-zone/dms-file';
import type { SourceRecord } from '../sources/types';

/** Bad input to a builder: one message per problem, each naming the table (or option) and the field. */
export class DmsSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'DmsSettingsError';
  }
}

/** The task exists but cannot be brought to the wanted state now (running, busy, other endpoints). */
export class DmsTaskStateError extends Error {
  constructor(
    message: string,
    readonly taskId: string,
    readonly status: string | null,
    /** running-and-changed: stop, ensure, resume; busy: try again later; the rest need a person. */
    readonly reason: 'running-and-changed' | 'busy' | 'endpoints-moved' | 'missing',
    readonly taskArn: string | null = null,
  ) {
    super(message);
    this.name = 'DmsTaskStateError';
  }
}

// ---------------------------------------------------------------------------------------------
// Table mappings
// https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TableMapping.SelectionTransformation.html

export interface ObjectLocator {
  'schema-name': string;
  'table-name': string;
}

export interface SelectionRule {
  'rule-type': 'selection';
  'rule-id': string;
  'rule-name': string;
  'object-locator': ObjectLocator;
  'rule-action': 'explicit';
}

export interface AddColumnRule {
  'rule-type': 'transformation';
  'rule-id': string;
  'rule-name': string;
  'rule-target': 'column';
  'object-locator': ObjectLocator;
  'rule-action': 'add-column';
  value: string;
  expression: string;
  'data-type': { type: 'string'; length: number };
}

export type TableMappingRule = SelectionRule | AddColumnRule;

export interface TableMappings {
  rules: TableMappingRule[];
}

// `$AR_H_CHANGE_SEQ` is DMS's task-level change sequence: 35 digits, a 16-digit timestamp then a
// 19-digit counter, so it is fixed width and compares as text in change order, which is what
// CHANGE_SEQ_COLUMN promises. Length 50 is the width DMS's own example declares.
// https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TableMapping.SelectionTransformation.Expressions.html
export const CHANGE_SEQ_EXPRESSION = '$AR_H_CHANGE_SEQ';
export const CHANGE_SEQ_LENGTH = 50;

const tableRef = (t: Pick<TableRecord, 'sourceName' | 'schemaName' | 'tableName'>) => `${t.sourceName}.${t.schemaName}.${t.tableName}`;

// In a table mapping's object-locator `%` and `_` are wildcards and `[...]` a character class.
// https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TableMapping.SelectionTransformation.Wildcards.html
const WILDCARD_CHARS = /[%[\]]/;

/** Whether `name` matches the DMS locator pattern `pattern` (`_` is one character, `%` any run). */
function locatorMatches(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/_/g, '.').replace(/%/g, '.*');
  return new RegExp(`^${re}$`, 's').test(name);
}

/**
 * The DMS table mappings for one source: for each enabled onboarded table (ordered by schema, then
 * table) an `explicit` selection rule and an `add-column` rule for the change-sequence column. Rule
 * ids derive from the control-plane table id, so onboarding another table leaves the existing rules
 * as they were. Tables of the source that are disabled are left out, as the local capture does;
 * paused tables stay in (a pause stops the table's pipeline, not the capture of its changes).
 */
export function buildTableMappings(source: SourceRecord, tables: TableRecord[]): TableMappings {
  const problems: string[] = [];
  if (!source.sourceName) problems.push('source: sourceName: is empty');
  const seen = new Map<string, TableRecord>();
  for (const t of tables) {
    const ref = tableRef(t);
    if (t.sourceName !== source.sourceName) {
      problems.push(`table ${ref}: sourceName: belongs to source ${t.sourceName}, not ${source.sourceName}`);
      continue;
    }
    if (!t.enabled) continue;
    if (!Number.isSafeInteger(t.tableId) || t.tableId <= 0) problems.push(`table ${ref}: tableId: must be a positive integer (got ${t.tableId})`);
    for (const [field, value] of [['schemaName', t.schemaName], ['tableName', t.tableName]] as const) {
      if (!value) problems.push(`table ${ref}: ${field}: is empty`);
      else if (WILDCARD_CHARS.test(value)) problems.push(`table ${ref}: ${field}: contains % [ or ], which DMS table mappings read as wildcards`);
    }
    // The raw zone is replayed into Hudi by record key: without a key, updates and deletes cannot
    // be applied (and DMS itself needs a key to capture them from MySQL and PostgreSQL).
    if (t.primaryKey.length === 0) problems.push(`table ${ref}: primaryKey: the table has no primary key; add one at the source and onboard it again`);
    const key = `${t.schemaName}\u0000${t.tableName}`;
    if (seen.has(key)) problems.push(`table ${ref}: listed twice`);
    else seen.set(key, t);
  }
  const selected = [...seen.values()].sort((a, b) =>
    a.schemaName === b.schemaName ? (a.tableName < b.tableName ? -1 : 1) : a.schemaName < b.schemaName ? -1 : 1,
  );
  if (problems.length === 0 && selected.length === 0) {
    problems.push(`source ${source.sourceName}: tables: no enabled table is onboarded (danau tables add), and DMS needs at least one selection rule`);
  }
  // The add-column rules name their table exactly, but `_` in a locator still matches any one
  // character: `a_b` would also add the column to an onboarded `axb`, which then gets it twice.
  for (const t of selected) {
    for (const other of selected) {
      if (other !== t && other.schemaName === t.schemaName && locatorMatches(t.tableName, other.tableName)) {
        problems.push(`table ${tableRef(t)}: tableName: as a DMS locator it also matches table ${tableRef(other)}; rename one of them`);
      }
    }
  }
  if (problems.length > 0) throw new DmsSettingsError(problems);

  const rules: TableMappingRule[] = [];
  for (const t of selected) {
    const locator = { 'schema-name': t.schemaName, 'table-name': t.tableName };
    rules.push({
      'rule-type': 'selection',
      'rule-id': String(t.tableId * 10 + 1),
      'rule-name': `danau-select-${t.tableId}`,
      'object-locator': locator,
      // `explicit` selects exactly this table: `include` would read `_` in `lab_orders` as a wildcard.
      'rule-action': 'explicit',
    });
  }
  for (const t of selected) {
    rules.push({
      'rule-type': 'transformation',
      'rule-id': String(t.tableId * 10 + 2),
      'rule-name': `danau-change-seq-${t.tableId}`,
      'rule-target': 'column',
      'object-locator': { 'schema-name': t.schemaName, 'table-name': t.tableName },
      'rule-action': 'add-column',
      value: CHANGE_SEQ_COLUMN,
      expression: CHANGE_SEQ_EXPRESSION,
      'data-type': { type: 'string', length: CHANGE_SEQ_LENGTH },
    });
  }
  return { rules };
}

// ---------------------------------------------------------------------------------------------
// S3 target endpoint settings
// https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.S3.html
// https://docs.aws.amazon.com/dms/latest/APIReference/API_S3Settings.html

export interface S3TargetOptions {
  bucket: string;
  /** The source whose task writes through this endpoint: its name is the BucketFolder, so its files land under `<source>/<schema>/<table>/`. */
  source: string;
  /** The IAM role DMS assumes to write the bucket (needs iam:PassRole for whoever creates the endpoint). */
  serviceAccessRoleArn: string;
  /** A customer-managed KMS key; without one objects are encrypted with SSE-S3. */
  kmsKeyArn?: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// As the control plane's sources.source_name check: one folder segment.
const SOURCE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/-]+$/;

/** Files DMS cuts at whichever comes first: 60 s (the local capture's window) or 32 MB. */
export const CDC_MAX_BATCH_INTERVAL_SECONDS = 60;
export const CDC_MIN_FILE_SIZE_KB = 32_000;

/** `S3Settings` for the raw-zone target endpoint (CreateEndpoint / ModifyEndpoint). */
export function buildS3TargetSettings(opts: S3TargetOptions): S3Settings {
  const problems: string[] = [];
  if (!BUCKET.test(opts.bucket) || opts.bucket.includes('..')) problems.push(`S3 target: bucket: ${JSON.stringify(opts.bucket)} is not an S3 bucket name`);
  if (!SOURCE_NAME.test(opts.source)) problems.push(`S3 target: source: ${JSON.stringify(opts.source)} is not a source name`);
  if (!ROLE_ARN.test(opts.serviceAccessRoleArn)) problems.push(`S3 target: serviceAccessRoleArn: ${JSON.stringify(opts.serviceAccessRoleArn)} is not an IAM role ARN`);
  if (opts.kmsKeyArn !== undefined && !KMS_KEY_ARN.test(opts.kmsKeyArn)) problems.push(`S3 target: kmsKeyArn: ${JSON.stringify(opts.kmsKeyArn)} is not a KMS key ARN`);
  if (problems.length > 0) throw new DmsSettingsError(problems);

  const settings: S3Settings = {
    BucketName: opts.bucket,
    ServiceAccessRoleArn: opts.serviceAccessRoleArn,
    DataFormat: DataFormatValue.PARQUET,
    ParquetVersion: ParquetVersionValue.PARQUET_2_0,
    EnableStatistics: true,
    // Timestamps stay in microseconds, as the local capture writes them; milliseconds are only for
    // Athena/Glue, and would silently drop precision from source timestamps.
    ParquetTimestampInMillisecond: false,
    // The commit-timestamp column (`yyyy-MM-dd HH:mm:ss.SSSSSS`), named as the local capture names it.
    TimestampColumnName: COMMIT_TS_COLUMN,
    // One timestamp for a whole full load (the task start), like the local capture's load, rather
    // than one that creeps forward as rows arrive at the target.
    UseTaskStartTimeForFullLoadTimestamp: true,
    // `Op` = I on full-load rows too, so LOAD and CDC files have the same columns (DMS >= 3.4.7 for Parquet).
    IncludeOpForFullLoad: true,
    // CDC files under <schema>/<table>/YYYY/MM/DD/ by transaction commit date. DatePartitionTimezone
    // is left unset so the dates are UTC, like keys.ts.
    // https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.S3.html#CHAP_Target.S3.DatePartitioning
    DatePartitionEnabled: true,
    DatePartitionSequence: DatePartitionSequenceValue.YYYYMMDD,
    DatePartitionDelimiter: DatePartitionDelimiterValue.SLASH,
    CdcMaxBatchInterval: CDC_MAX_BATCH_INTERVAL_SECONDS,
    CdcMinFileSize: CDC_MIN_FILE_SIZE_KB,
    // Only affects CSV output (Parquet always names its columns); kept so a CSV target stays readable.
    AddColumnName: true,
    // The API spells these `sse-kms` / `sse-s3` (the guide writes SSE_KMS / SSE_S3). An endpoint can
    // later go from SSE_KMS to SSE_S3 but never back, so choose the key before the first create.
    EncryptionMode: opts.kmsKeyArn ? EncryptionModeValue.SSE_KMS : EncryptionModeValue.SSE_S3,
  };
  settings.BucketFolder = opts.source;
  if (opts.kmsKeyArn) settings.ServerSideEncryptionKmsKeyId = opts.kmsKeyArn;
  return settings;
}

// ---------------------------------------------------------------------------------------------
// Task identifier and task settings

const TASK_ID_PREFIX = 'danau-cdc-';

/**
 * The replication task of one source. DMS identifiers are 1-255 ASCII letters, digits and hyphens,
 * start with a letter, and have no trailing or doubled hyphen (CreateReplicationTask API). DMS also
 * stores them in lower case. A source name that needed changing (`clinic_eu` -> `clinic-eu`) gets a
 * short hash of the original, so two names that clean up alike (`a_b`, `a__b`) keep separate tasks.
 */
export function replicationTaskId(sourceName: string): string {
  if (!sourceName) throw new DmsSettingsError(['source: sourceName: is empty']);
  const cleaned = sourceName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (cleaned === sourceName && TASK_ID_PREFIX.length + cleaned.length <= 255) return `${TASK_ID_PREFIX}${cleaned}`;
  const hash = createHash('sha256').update(sourceName, 'utf8').digest('hex').slice(0, 8);
  const room = 255 - TASK_ID_PREFIX.length - hash.length - 1;
  const body = cleaned.slice(0, room).replace(/-+$/, '');
  return body ? `${TASK_ID_PREFIX}${body}-${hash}` : `${TASK_ID_PREFIX}${hash}`;
}

export interface DmsTaskSettings {
  TargetMetadata: {
    BatchApplyEnabled: boolean;
    SupportLobs: boolean;
    FullLobMode: boolean;
    LobChunkSize: number;
    LimitedSizeLobMode: boolean;
  };
  FullLoadSettings: {
    TargetTablePrepMode: 'DO_NOTHING' | 'DROP_AND_CREATE' | 'TRUNCATE_BEFORE_LOAD';
  };
  ChangeProcessingDdlHandlingPolicy: {
    HandleSourceTableDropped: boolean;
    HandleSourceTableTruncated: boolean;
    HandleSourceTableAltered: boolean;
  };
  ErrorBehavior: {
    DataErrorPolicy: 'STOP_TASK';
    DataTruncationErrorPolicy: 'STOP_TASK';
  };
  Logging: { EnableLogging: boolean };
}

/**
 * The replication task settings. Only what Danau depends on is set; DMS fills in the rest with its
 * defaults. https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.html
 */
export function buildTaskSettings(): DmsTaskSettings {
  return {
    TargetMetadata: {
      // Apply each change as it comes. Batch apply nets changes to a row into one, losing the per-change
      // history the raw zone keeps. DMS reads this flag from TargetMetadata, not ChangeProcessingTuning.
      // https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.TargetMetadata.html
      BatchApplyEnabled: false,
      // TEXT/BLOB (MySQL) and text/jsonb/bytea (PostgreSQL) are LOBs to DMS. Limited LOB mode cuts
      // them at LobMaxSize; full LOB mode is slower but loses nothing. 64 KB chunks are the
      // recommended size (larger ones can fail the task). Same page as above.
      SupportLobs: true,
      FullLobMode: true,
      LobChunkSize: 64,
      LimitedSizeLobMode: false,
    },
    FullLoadSettings: {
      // Never let a (re)load drop or truncate what is already in the raw zone: it is the history
      // that downstream replays. A re-snapshot writes new LOAD files and is handled by Danau.
      // https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.FullLoad.html
      TargetTablePrepMode: 'DO_NOTHING',
    },
    ChangeProcessingDdlHandlingPolicy: {
      // A DROP or TRUNCATE at the source would otherwise be replayed onto S3 and remove raw files
      // (https://repost.aws/knowledge-center/dms-data-issues-target-amazon-s3). ALTER is followed so
      // added columns reach the files, where the schema-drift check detects them.
      HandleSourceTableDropped: false,
      HandleSourceTableTruncated: false,
      HandleSourceTableAltered: true,
    },
    ErrorBehavior: {
      // DMS's default (LOG_ERROR) skips a row it cannot write and carries on: a silent hole in the
      // raw zone. Stop instead, so the failure is seen and nothing is lost.
      // https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.ErrorHandling.html
      DataErrorPolicy: 'STOP_TASK',
      DataTruncationErrorPolicy: 'STOP_TASK',
    },
    // CloudWatch logs for the task (needs the account's dms-cloudwatch-logs-role).
    // https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.Logging.html
    Logging: { EnableLogging: true },
  };
}

// ---------------------------------------------------------------------------------------------
// Comparing what DMS holds with what Danau wants

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const isEmptyJson = (v: Json | undefined) =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/**
 * Whether `actual` (parsed from DMS) already says what `wanted` says. Every key of `wanted` must be
 * there with an equal value (numbers and strings compared as text, as DMS may echo `"50"` for 50).
 * Keys only `actual` has are ignored when `strictExtras` is false (DMS adds its defaults to task
 * settings), and otherwise only when empty (e.g. a `"filters": []` added to a rule).
 */
function coversJson(wanted: Json, actual: Json | undefined, strictExtras: boolean): boolean {
  if (wanted === null || typeof wanted !== 'object') {
    return actual !== undefined && actual !== null && typeof actual !== 'object' && String(actual) === String(wanted);
  }
  if (Array.isArray(wanted)) {
    return Array.isArray(actual) && actual.length === wanted.length && wanted.every((w, i) => coversJson(w, actual[i], strictExtras));
  }
  if (actual === null || actual === undefined || typeof actual !== 'object' || Array.isArray(actual)) return false;
  for (const [k, w] of Object.entries(wanted)) if (!coversJson(w, actual[k], strictExtras)) return false;
  if (strictExtras) for (const [k, a] of Object.entries(actual)) if (!(k in wanted) && !isEmptyJson(a)) return false;
  return true;
}

function parseJson(text: string | undefined): Json | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/** Rules ordered by rule id, so a console edit that only reordered them is not a difference. */
function rulesById(mappings: Json | undefined): Json | undefined {
  if (!mappings || typeof mappings !== 'object' || Array.isArray(mappings) || !Array.isArray(mappings.rules)) return mappings;
  const id = (r: Json) => (r && typeof r === 'object' && !Array.isArray(r) ? Number(r['rule-id']) : NaN);
  return { ...mappings, rules: [...mappings.rules].sort((a, b) => id(a) - id(b)) };
}

export function sameTableMappings(wanted: TableMappings, actualText: string | undefined): boolean {
  return coversJson(rulesById(wanted as unknown as Json)!, rulesById(parseJson(actualText)), true);
}

export function coversTaskSettings(wanted: DmsTaskSettings, actualText: string | undefined): boolean {
  return coversJson(wanted as unknown as Json, parseJson(actualText), false);
}

// ---------------------------------------------------------------------------------------------
// The task manager

/**
 * The part of DatabaseMigrationServiceClient the manager uses. A real client satisfies it; tests pass
 * a small fake.
 */
export interface DmsClient {
  send(command: DescribeEndpointsCommand): Promise<DescribeEndpointsCommandOutput>;
  send(command: DescribeReplicationTasksCommand): Promise<DescribeReplicationTasksCommandOutput>;
  send(command: CreateReplicationTaskCommand): Promise<CreateReplicationTaskCommandOutput>;
  send(command: ModifyReplicationTaskCommand): Promise<ModifyReplicationTaskCommandOutput>;
  send(command: StartReplicationTaskCommand): Promise<StartReplicationTaskCommandOutput>;
  send(command: StopReplicationTaskCommand): Promise<StopReplicationTaskCommandOutput>;
}

// Checked at compile time: the real client fits the seam.
const _realClientFits = (c: DatabaseMigrationServiceClient): DmsClient => c;
void _realClientFits;

export type MigrationType = 'full-load-and-cdc' | 'cdc';
export type StartType = StartReplicationTaskTypeValue;

export interface EnsureTaskInput {
  source: SourceRecord;
  tables: TableRecord[];
  replicationInstanceArn: string;
  sourceEndpointArn: string;
  targetEndpointArn: string;
  migrationType: MigrationType;
}

export interface EnsureTaskResult {
  taskId: string;
  taskArn: string;
  outcome: 'created' | 'modified' | 'unchanged';
  status: string;
}

/** What a describe reports: plain data, safe to return from an activity. */
export interface DmsTaskStatus {
  taskId: string;
  taskArn: string;
  status: string;
  stopReason: string | null;
  lastFailureMessage: string | null;
  fullLoadProgressPercent: number | null;
  tablesLoaded: number | null;
  tablesLoading: number | null;
  tablesQueued: number | null;
  tablesErrored: number | null;
  /** Only when a latency reader is configured: DMS reports CDC latency as CloudWatch metrics, not in the task. */
  cdcLatencySourceSeconds?: number;
  cdcLatencyTargetSeconds?: number;
}

/**
 * CDC latency comes from the CloudWatch metrics CDCLatencySource / CDCLatencyTarget (namespace
 * AWS/DMS), not from DescribeReplicationTasks; a reader for them can be plugged in here.
 * https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Monitoring.html
 */
export type CdcLatencyReader = (taskArn: string) => Promise<{ sourceSeconds?: number; targetSeconds?: number }>;

// A task can be modified only when it is not running; these are the states that allow it.
// https://docs.aws.amazon.com/dms/latest/APIReference/API_ModifyReplicationTask.html
const MODIFIABLE = new Set(['ready', 'stopped', 'failed']);
const RUNNING = new Set(['running', 'starting', 'resuming', 'stopping']);
const ARN = /^arn:aws[a-z-]*:dms:[a-z0-9-]+:\d{12}:[a-z-]+:[A-Za-z0-9-]+$/;

const isNotFound = (err: unknown) => err instanceof Error && err.name === 'ResourceNotFoundFault';

export class DmsTaskManager {
  constructor(
    private readonly client: DmsClient,
    private readonly options: { latency?: CdcLatencyReader } = {},
  ) {}

  /**
   * The raw zone keys every file by source (`<source>/<schema>/<table>/…`, lib/raw-zone/keys.ts), so
   * each source's task needs an S3 target endpoint of its own whose BucketFolder is the source's
   * name: two sources writing through one folder overwrote each other's `public.<name>` files.
   * Endpoint settings are the AWS account's (IAM role, KMS key), so Danau checks them rather than
   * rewriting them; buildS3TargetSettings gives the settings to create the endpoint with.
   */
  async checkTargetEndpoint(source: string, targetEndpointArn: string, rawBucket: string): Promise<void> {
    if (!ARN.test(targetEndpointArn)) throw new DmsSettingsError([`task for source ${source}: targetEndpointArn: ${JSON.stringify(targetEndpointArn)} is not a DMS ARN`]);
    let endpoint;
    try {
      endpoint = (await this.client.send(new DescribeEndpointsCommand({ Filters: [{ Name: 'endpoint-arn', Values: [targetEndpointArn] }] }))).Endpoints?.[0];
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const fix = `create one S3 target endpoint per source with BucketName ${rawBucket} and BucketFolder ${source} (settings: buildS3TargetSettings in lib/capture/dms-task.ts)`;
    if (!endpoint) throw new DmsSettingsError([`task for source ${source}: targetEndpointArn: endpoint ${targetEndpointArn} does not exist; ${fix}`]);
    const s3 = endpoint.S3Settings;
    const problems: string[] = [];
    if (endpoint.EngineName !== 's3') problems.push(`task for source ${source}: target endpoint ${targetEndpointArn} is a ${endpoint.EngineName ?? 'unknown'} endpoint, not s3; ${fix}`);
    else {
      if (s3?.BucketName !== rawBucket) problems.push(`task for source ${source}: target endpoint ${targetEndpointArn} writes to bucket ${s3?.BucketName ?? '(none)'}, not the raw bucket ${rawBucket}; ${fix}`);
      if (s3?.BucketFolder !== source) problems.push(`task for source ${source}: target endpoint ${targetEndpointArn} has BucketFolder ${JSON.stringify(s3?.BucketFolder ?? '')}, not ${JSON.stringify(source)}: its files would land outside the source's raw prefix; ${fix}`);
    }
    if (problems.length > 0) throw new DmsSettingsError(problems);
  }

  /** Creates the source's task, or brings its mappings and settings up to date; never starts it. */
  async ensureTask(input: EnsureTaskInput): Promise<EnsureTaskResult> {
    const problems: string[] = [];
    for (const field of ['replicationInstanceArn', 'sourceEndpointArn', 'targetEndpointArn'] as const) {
      if (!ARN.test(input[field])) problems.push(`task for source ${input.source.sourceName}: ${field}: ${JSON.stringify(input[field])} is not a DMS ARN`);
    }
    if (input.migrationType !== 'full-load-and-cdc' && input.migrationType !== 'cdc') {
      problems.push(`task for source ${input.source.sourceName}: migrationType: must be full-load-and-cdc or cdc`);
    }
    if (problems.length > 0) throw new DmsSettingsError(problems);
    const mappings = buildTableMappings(input.source, input.tables);
    const settings = buildTaskSettings();
    const taskId = replicationTaskId(input.source.sourceName);

    const existing = await this.findTask('replication-task-id', taskId, false);
    if (!existing) {
      const out = await this.client.send(
        new CreateReplicationTaskCommand({
          ReplicationTaskIdentifier: taskId,
          ReplicationInstanceArn: input.replicationInstanceArn,
          SourceEndpointArn: input.sourceEndpointArn,
          TargetEndpointArn: input.targetEndpointArn,
          MigrationType: input.migrationType,
          TableMappings: JSON.stringify(mappings),
          ReplicationTaskSettings: JSON.stringify(settings),
          Tags: [{ Key: 'danau:source', Value: input.source.sourceName }],
        }),
      );
      const task = out.ReplicationTask;
      if (!task?.ReplicationTaskArn) throw new Error(`DMS task ${taskId}: CreateReplicationTask returned no task ARN`);
      return { taskId, taskArn: task.ReplicationTaskArn, outcome: 'created', status: task.Status ?? 'creating' };
    }

    const taskArn = existing.ReplicationTaskArn!;
    const status = existing.Status ?? 'unknown';
    // Endpoints and instance cannot be changed by ModifyReplicationTask.
    const moved = (
      [
        ['replication instance', existing.ReplicationInstanceArn, input.replicationInstanceArn],
        ['source endpoint', existing.SourceEndpointArn, input.sourceEndpointArn],
        ['target endpoint', existing.TargetEndpointArn, input.targetEndpointArn],
      ] as const
    ).filter(([, have, want]) => have !== want);
    if (moved.length > 0) {
      const what = moved.map(([name, have, want]) => `${name} is ${have ?? '(none)'}, wanted ${want}`).join('; ');
      throw new DmsTaskStateError(`DMS task ${taskId}: ${what}. A task's endpoints cannot be changed: delete the task and ensure it again (it will reload the tables)`, taskId, status, 'endpoints-moved');
    }

    if (sameTableMappings(mappings, existing.TableMappings) && coversTaskSettings(settings, existing.ReplicationTaskSettings)) {
      return { taskId, taskArn, outcome: 'unchanged', status };
    }
    if (RUNNING.has(status)) {
      throw new DmsTaskStateError(
        `DMS task ${taskId} is ${status} and its table mappings or settings differ from the control plane: stop it first (DmsTaskManager.stop), then ensure it again and resume it`,
        taskId,
        status,
        'running-and-changed',
        taskArn,
      );
    }
    if (!MODIFIABLE.has(status)) {
      throw new DmsTaskStateError(`DMS task ${taskId} is ${status}: it can be modified only when ready, stopped or failed; try again when it is`, taskId, status, 'busy');
    }
    const out = await this.client.send(
      new ModifyReplicationTaskCommand({
        ReplicationTaskArn: taskArn,
        TableMappings: JSON.stringify(mappings),
        ReplicationTaskSettings: JSON.stringify(settings),
      }),
    );
    return { taskId, taskArn, outcome: 'modified', status: out.ReplicationTask?.Status ?? 'modifying' };
  }

  /**
   * `start-replication` for a new task, `resume-processing` after a stop (CDC carries on from its
   * checkpoint), `reload-target` to load everything again.
   * https://docs.aws.amazon.com/dms/latest/APIReference/API_StartReplicationTask.html
   */
  async start(taskArn: string, startType: StartType): Promise<string> {
    const out = await this.client.send(new StartReplicationTaskCommand({ ReplicationTaskArn: taskArn, StartReplicationTaskType: startType }));
    return out.ReplicationTask?.Status ?? 'starting';
  }

  async stop(taskArn: string): Promise<string> {
    const out = await this.client.send(new StopReplicationTaskCommand({ ReplicationTaskArn: taskArn }));
    return out.ReplicationTask?.Status ?? 'stopping';
  }

  async describe(taskArn: string): Promise<DmsTaskStatus> {
    const task = await this.findTask('replication-task-arn', taskArn, true);
    if (!task) throw new DmsTaskStateError(`DMS task ${taskArn} does not exist`, taskArn, null, 'missing');
    const stats = task.ReplicationTaskStats;
    const result: DmsTaskStatus = {
      taskId: task.ReplicationTaskIdentifier ?? '',
      taskArn,
      status: task.Status ?? 'unknown',
      stopReason: task.StopReason ?? null,
      lastFailureMessage: task.LastFailureMessage ?? null,
      fullLoadProgressPercent: stats?.FullLoadProgressPercent ?? null,
      tablesLoaded: stats?.TablesLoaded ?? null,
      tablesLoading: stats?.TablesLoading ?? null,
      tablesQueued: stats?.TablesQueued ?? null,
      tablesErrored: stats?.TablesErrored ?? null,
    };
    if (this.options.latency) {
      const latency = await this.options.latency(taskArn);
      if (latency.sourceSeconds !== undefined) result.cdcLatencySourceSeconds = latency.sourceSeconds;
      if (latency.targetSeconds !== undefined) result.cdcLatencyTargetSeconds = latency.targetSeconds;
    }
    return result;
  }

  /** One task by id or ARN, or null. DMS answers a filter that matches nothing with ResourceNotFoundFault. */
  private async findTask(filter: 'replication-task-id' | 'replication-task-arn', value: string, withoutSettings: boolean): Promise<ReplicationTask | null> {
    try {
      const out = await this.client.send(
        new DescribeReplicationTasksCommand({ Filters: [{ Name: filter, Values: [value] }], WithoutSettings: withoutSettings }),
      );
      return out.ReplicationTasks?.[0] ?? null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}
