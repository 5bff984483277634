// The production LakeQueryEngine: the same SQL as SparkSqlQueryEngine, run by Athena over the Glue
// tables the lake job's Hive sync creates (`<source>_<schema>_<table>` for COPY_ON_WRITE, and only
// `<name>_ro` / `<name>_rt` for MERGE_ON_READ: the bare `<name>` that the Spark engine also
// registers for a MERGE_ON_READ table does not exist in Glue).
//
// Incremental reads are not done here. The Spark engine registers `<name>_changes` per query from
// Hudi's incremental query type; Athena has no per-query views and cannot read a Hudi table
// incrementally, so in production an incremental pull goes through the lake job on EMR
// (SparkSqlQueryEngine over EmrStepRunner), and this engine refuses a table ref with `incremental`.
//
// Values come back as SparkSqlQueryEngine gives them (Spark's toJSON read by JSON.parse), so a
// caller can switch engines and compare results as they are:
//   - tinyint/smallint/integer/bigint, real/double, decimal: numbers. Decimals are numbers too, as
//     Spark writes them: a bigint past 2^53 or a decimal with more than ~15 significant digits
//     loses precision in either engine; `CAST(x AS varchar)` in the SQL gives the exact text in both.
//     NaN and ±Infinity are the strings "NaN", "Infinity", "-Infinity", as Spark writes them.
//   - boolean: true/false.
//   - date: 'yyyy-MM-dd'. timestamp: 'yyyy-MM-ddTHH:mm:ss.SSSZ' (UTC, milliseconds, truncated: Spark's
//     JSON format with the session time zone UTC); a timestamp with time zone is converted to that
//     instant in UTC.
//   - varchar/char/time/uuid/…: the text. varbinary: base64, as Spark writes binary.
//   - json: the parsed JSON value. array/map/row: Athena's own text (`[1, 2]`, `{a=1}`), which is
//     not JSON: `CAST(x AS JSON)` in the SQL gives a parsed value instead.
//   - NULL: the key is left out of the row, as Spark's toJSON leaves out null fields
//     (spark.sql.jsonGenerator.ignoreNullFields); `columns` still names every column.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
  type QueryExecution,
  type Row,
} from '@aws-sdk/client-athena';
import { LakeQueryError, type LakeQueryEngine, type LakeQueryResult, type LakeTableRef } from './query';

export interface AthenaQueryEngineOptions {
  /** Made with createAthenaClient (lib/aws/clients.ts). Only `send` is used. */
  client: Pick<AthenaClient, 'send'>;
  /** The Glue database the lake job's Hive sync writes to. */
  database: string;
  workGroup: string;
  /** s3://bucket/prefix/ for the result files, e.g. s3://danau-processed/_danau/athena-results/; the work group's own when absent. */
  outputLocation?: string;
  /** How often GetQueryExecution is called while the query runs; default 1000. */
  pollMs?: number;
}

export interface AthenaQueryOptions {
  maxRows?: number;
  signal?: AbortSignal;
  /**
   * Makes the start idempotent: the same token with the same SQL (and database, work group and
   * output location) starts at most one Athena query, so a retried activity attaches to the query
   * its earlier attempt started instead of running it again. Use something stable across attempts
   * and unique per intended run, e.g. `${workflowId}:${activityId}`. Without it every call starts a
   * query of its own (the SDK makes a random token per call, kept across the SDK's own retries): a
   * token from the SQL alone would hand a later run of the same SQL the earlier run's results.
   */
  requestToken?: string;
}

/** Rows asked for in one GetQueryResults call: Athena's maximum. */
const PAGE_SIZE = 1000;
/** Times an earlier attempt's cancelled (or retryably failed) query is replaced by a new one in one call. */
const MAX_RESUBMITS = 3;

const ENDED = new Set<string>([QueryExecutionState.SUCCEEDED, QueryExecutionState.FAILED, QueryExecutionState.CANCELLED]);

/**
 * The ClientRequestToken for a request token: a hash of everything Athena compares (it rejects a
 * reused token whose QueryString or other parameters changed). 64 hex characters after a prefix:
 * within Athena's 32 to 128.
 */
export function athenaRequestToken(requestToken: string, sql: string, context: { database: string; workGroup: string; outputLocation?: string }): string {
  const hash = createHash('sha256');
  for (const part of [requestToken, sql, context.database, context.workGroup, context.outputLocation ?? '']) hash.update(`${part.length}:${part}\n`);
  return `danau-${hash.digest('hex')}`;
}

/** The token for the query that replaces `queryExecutionId`, started with `token`: deterministic, so a later retry finds the replacement too. */
function resubmitToken(token: string, queryExecutionId: string): string {
  return `danau-${createHash('sha256').update(`${token}\n${queryExecutionId}`).digest('hex')}`;
}

export class AthenaQueryEngine implements LakeQueryEngine {
  private readonly client: Pick<AthenaClient, 'send'>;
  private readonly database: string;
  private readonly workGroup: string;
  private readonly outputLocation: string | undefined;
  private readonly pollMs: number;

  constructor(options: AthenaQueryEngineOptions) {
    if (!options.database) throw new Error('AthenaQueryEngine: database is required');
    if (!options.workGroup) throw new Error('AthenaQueryEngine: workGroup is required');
    if (options.outputLocation !== undefined && !/^s3:\/\/[^/]+/.test(options.outputLocation)) {
      throw new Error(`AthenaQueryEngine: outputLocation must be s3://bucket/prefix/, got ${options.outputLocation}`);
    }
    const pollMs = options.pollMs ?? 1000;
    if (!(pollMs > 0)) throw new Error(`AthenaQueryEngine: pollMs must be positive, got ${pollMs}`);
    this.client = options.client;
    this.database = options.database;
    this.workGroup = options.workGroup;
    this.outputLocation = options.outputLocation;
    this.pollMs = pollMs;
  }

  async query(tables: LakeTableRef[], sql: string, options: AthenaQueryOptions = {}): Promise<LakeQueryResult> {
    const maxRows = options.maxRows ?? 10_000;
    if (!Number.isInteger(maxRows) || maxRows < 0) throw new LakeQueryError(`maxRows must be a non-negative integer, got ${maxRows}`);
    const incremental = tables.filter((t) => t.incremental);
    if (incremental.length > 0) {
      throw new LakeQueryError(
        `Athena cannot read ${incremental.map((t) => t.name).join(', ')} incrementally (${incremental.map((t) => `${t.name}_changes`).join(', ')}): ` +
          'Athena has no per-query views and no Hudi incremental reads; incremental pulls run in the lake job on EMR (the Spark SQL engine)',
      );
    }
    const { signal } = options;
    if (signal?.aborted) throw new LakeQueryError('cancelled: before the Athena query was started');

    let token = options.requestToken === undefined ? undefined : athenaRequestToken(options.requestToken, sql, { database: this.database, workGroup: this.workGroup, outputLocation: this.outputLocation });
    for (let resubmits = 0; ; resubmits++) {
      const sentAt = Date.now();
      const id = await this.start(sql, token);
      const { execution, endedAtFirstLook } = await this.waitForEnd(id, signal);
      const state = execution.Status?.State;
      if (state === QueryExecutionState.SUCCEEDED) return this.results(id, execution, maxRows, signal);
      if (token && resubmits < MAX_RESUBMITS && endedAtFirstLook && this.endedInEarlierAttempt(execution, sentAt)) {
        // The token named a query an earlier attempt started, and it was stopped (that attempt was
        // cancelled, e.g. on a heartbeat timeout) or failed in a way Athena calls retryable.
        // Attaching again would report that end for ever: start a new query under a token derived
        // from the old query's id, which a later retry derives too and so attaches to.
        token = resubmitToken(token, id);
        continue;
      }
      throw this.failure(id, execution, sql, tables);
    }
  }

  private async start(sql: string, token: string | undefined): Promise<string> {
    const out = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: { Database: this.database },
        WorkGroup: this.workGroup,
        ...(this.outputLocation ? { ResultConfiguration: { OutputLocation: this.outputLocation } } : {}),
        ...(token ? { ClientRequestToken: token } : {}),
      }),
    );
    if (!out.QueryExecutionId) throw new LakeQueryError(`Athena StartQueryExecution in work group ${this.workGroup} returned no query id`);
    return out.QueryExecutionId;
  }

  /** GetQueryExecution every pollMs until the query has ended; an abort stops the query and throws "cancelled". */
  private async waitForEnd(id: string, signal: AbortSignal | undefined): Promise<{ execution: QueryExecution; endedAtFirstLook: boolean }> {
    for (let looks = 0; ; looks++) {
      if (signal?.aborted) throw await this.cancel(id);
      const out = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const execution = out.QueryExecution;
      if (!execution) throw new LakeQueryError(`Athena query ${id}: GetQueryExecution returned no execution`);
      if (ENDED.has(execution.Status?.State ?? '')) return { execution, endedAtFirstLook: looks === 0 };
      try {
        await sleep(this.pollMs, undefined, { signal });
      } catch {
        // Only an abort rejects the sleep; the top of the loop handles it.
      }
    }
  }

  private async cancel(id: string): Promise<LakeQueryError> {
    const note = await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).then(
      () => 'stopped',
      (err: unknown) => `StopQueryExecution failed: ${err instanceof Error ? err.message : String(err)}`,
    );
    return new LakeQueryError(`cancelled: Athena query ${id} (${note})`);
  }

  /**
   * Whether a query that had already ended when first looked at ended before this call started it:
   * then it is an earlier attempt's query that the token led back to. CANCELLED is always that (this
   * call stops a query only on its own abort, which never gets here); FAILED only when Athena calls
   * the error retryable and the failure is older than the start (Athena's clock against ours).
   */
  private endedInEarlierAttempt(execution: QueryExecution, sentAt: number): boolean {
    const status = execution.Status;
    if (status?.State === QueryExecutionState.CANCELLED) return true;
    const completed = status?.CompletionDateTime?.getTime();
    return status?.State === QueryExecutionState.FAILED && status.AthenaError?.Retryable === true && completed !== undefined && completed < sentAt;
  }

  private failure(id: string, execution: QueryExecution, sql: string, tables: LakeTableRef[]): LakeQueryError {
    const status = execution.Status;
    const state = status?.State ?? 'UNKNOWN';
    const error = status?.AthenaError;
    const reason = status?.StateChangeReason ?? error?.ErrorMessage ?? 'Athena gave no reason';
    const kind = error?.ErrorType !== undefined ? ` (error type ${error.ErrorType}${error.Retryable ? ', retryable' : ''})` : '';
    // Glue has no bare <name> for a MERGE_ON_READ table, though the Spark engine registers one.
    const bareMor = tables.filter((t) => t.tableType === 'MERGE_ON_READ' && new RegExp(`\\b${escapeRegExp(t.name)}\\b`).test(sql));
    const hint = bareMor.length > 0 ? `; note: ${bareMor.map((t) => t.name).join(', ')} is MERGE_ON_READ, which Glue has only as ${bareMor.map((t) => `${t.name}_rt / ${t.name}_ro`).join(', ')}` : '';
    const verb = state === QueryExecutionState.CANCELLED ? 'was cancelled' : state === QueryExecutionState.FAILED ? 'failed' : `ended ${state}`;
    return new LakeQueryError(`Athena query ${id} ${verb}: ${reason}${kind}${hint}`);
  }

  /** Pages GetQueryResults until maxRows + 1 rows (to know whether there are more) or the end. */
  private async results(id: string, execution: QueryExecution, maxRows: number, signal: AbortSignal | undefined): Promise<LakeQueryResult> {
    let columns: ColumnInfo[] | undefined;
    const rows: Record<string, unknown>[] = [];
    let nextToken: string | undefined;
    let first = true;
    do {
      if (signal?.aborted) throw new LakeQueryError(`cancelled: while reading the results of Athena query ${id}`);
      // The first page may start with the header row: one more than the rows still wanted.
      const wanted = maxRows + 1 - rows.length + (first ? 1 : 0);
      const page = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: nextToken, MaxResults: Math.min(PAGE_SIZE, wanted) }));
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      let pageRows = page.ResultSet?.Rows ?? [];
      if (first && isHeaderRow(pageRows[0], columns, execution)) pageRows = pageRows.slice(1);
      for (const row of pageRows) {
        if (rows.length > maxRows) break;
        rows.push(convertRow(row, columns));
      }
      nextToken = page.NextToken;
      first = false;
    } while (nextToken && rows.length <= maxRows);
    return {
      columns: (columns ?? []).map(columnName),
      rows: rows.slice(0, maxRows),
      truncated: rows.length > maxRows,
      incremental: [],
    };
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function columnName(column: ColumnInfo): string {
  return column.Name ?? column.Label ?? '';
}

/**
 * Athena puts the column labels in the first row of a SELECT's (DML) results and not in a DDL's.
 * Skipped only when it is one: a row of labels where the statement type says there is a header.
 */
function isHeaderRow(row: Row | undefined, columns: ColumnInfo[], execution: QueryExecution): boolean {
  if (!row?.Data || execution.StatementType === 'DDL' || columns.length === 0 || row.Data.length !== columns.length) return false;
  return row.Data.every((d, i) => d.VarCharValue !== undefined && (d.VarCharValue === columns[i]!.Label || d.VarCharValue === columns[i]!.Name));
}

function convertRow(row: Row, columns: ColumnInfo[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  columns.forEach((column, i) => {
    const text = row.Data?.[i]?.VarCharValue;
    if (text === undefined) return; // NULL: left out, as Spark's toJSON does
    out[columnName(column)] = convertValue(text, column.Type ?? 'varchar');
  });
  return out;
}

/** `timestamp(3) with time zone` -> `timestamp with time zone`, `decimal(12,2)` -> `decimal`, `array(integer)` -> `array`. */
function baseType(type: string): string {
  const t = type.toLowerCase().replace(/\([^)]*\)/g, '').replace(/\s+/g, ' ').trim();
  const nested = /^(array|map|row|struct)\b/.exec(t);
  return nested ? nested[1]! : t;
}

/** One Athena value (always text in GetQueryResults) as the JSON value Spark's toJSON gives for it. */
export function convertValue(text: string, type: string): unknown {
  switch (baseType(type)) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint':
    case 'decimal':
      return toNumber(text);
    case 'real':
    case 'float':
    case 'double':
      return text === 'NaN' || text === 'Infinity' || text === '-Infinity' ? text : toNumber(text);
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'timestamp':
      return timestampText(text);
    case 'timestamp with time zone':
      return zonedTimestampText(text);
    case 'varbinary':
      return /^(?:[0-9a-f]{2}(?: ?[0-9a-f]{2})*)?$/i.test(text) ? Buffer.from(text.replace(/ /g, ''), 'hex').toString('base64') : text;
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    default:
      return text;
  }
}

function toNumber(text: string): number | string {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

const TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/;

function millis(fraction: string | undefined): string {
  return (fraction ?? '').slice(0, 3).padEnd(3, '0');
}

/** `2026-11-23 04:05:06.123456` (no zone: the lake's timestamps are UTC) -> `2026-11-23T04:05:06.123Z`. */
function timestampText(text: string): string {
  const m = TIMESTAMP.exec(text);
  if (!m) return text;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${millis(m[7])}Z`;
}

/** `2026-11-23 11:05:06.123 Asia/Jakarta` (or `UTC`, `+07:00`) -> the instant in UTC, `2026-11-23T04:05:06.123Z`. */
function zonedTimestampText(text: string): string {
  const split = /^(\S+[ T]\S+) (\S+)$/.exec(text.trim());
  const m = split ? TIMESTAMP.exec(split[1]!) : null;
  if (!split || !m) return text;
  const wall = utcMillis(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const zone = split[2]!;
  let offsetMs: number | undefined;
  const fixed = /^([+-])(\d\d):?(\d\d)$/.exec(zone);
  if (fixed) offsetMs = (fixed[1] === '-' ? -1 : 1) * (+fixed[2]! * 60 + +fixed[3]!) * 60_000;
  else if (zone === 'UTC' || zone === 'Z') offsetMs = 0;
  else {
    try {
      // The zone's offset at the wall time read as UTC, then at the instant that gives (right across a DST change).
      offsetMs = zoneOffsetMs(zone, wall);
      offsetMs = zoneOffsetMs(zone, wall - offsetMs);
    } catch {
      return text; // not a zone this runtime knows
    }
  }
  const iso = new Date(wall - offsetMs).toISOString(); // whole seconds; the fraction is the wall time's
  return `${iso.slice(0, -5)}.${millis(m[7])}Z`;
}

function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  d.setUTCFullYear(year); // Date.UTC reads years 0-99 as 1900-1999
  return d.getTime();
}

function zoneOffsetMs(timeZone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short' })
    .formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const era = parts.find((p) => p.type === 'era')?.value;
  const year = era === 'BC' ? 1 - get('year') : get('year');
  return utcMillis(year, get('month'), get('day'), get('hour'), get('minute'), get('second')) - Math.floor(instant / 1000) * 1000;
}
