// The warehouse in production: Redshift through the Redshift Data API (asynchronous: a statement is
// submitted, then polled). A transaction is one BatchExecuteStatement, which Redshift runs as one
// transaction; a query is one ExecuteStatement, whose rows are read page by page with
// GetStatementResult.
//
// A retried activity must not run its SQL twice, so the statement id is recorded in the
// StatementLedger under `key` as soon as Redshift hands it out, and a later call with the same key
// re-attaches to it: FINISHED returns at once (a query then reads that statement's rows), a running
// one is polled on, and only a FAILED or ABORTED one (or one Redshift no longer knows: it keeps
// statements for 24 hours) is run anew. The ClientToken covers the gap between submitting and
// recording: a retry after a crash in between sends the same token and gets the same statement.
//
// Values come back as PostgresWarehouse gives them (see lib/warehouse/postgres.ts), by the column's
// typeName:
//   - int8 (longValue) and numeric (stringValue): strings. The int8 text is exact up to 2^53 only:
//     the Data API sends longValue as a JSON number, which the SDK reads into a double;
//     `CAST(x AS varchar)` in the SQL gives the exact text of a larger one.
//   - int2, int4 (longValue), float4, float8 (doubleValue): numbers; NaN/±Infinity as strings.
//     A longValue of an unknown type is a string, as int8 (exact where a number might not be).
//   - bool: true/false. NULL (isNull): null.
//   - timestamptz: UTC, 'yyyy-MM-ddTHH:mm:ss.SSSSSSZ'; timestamp: 'yyyy-MM-ddTHH:mm:ss.SSSSSS'.
//   - date: 'yyyy-MM-dd' (Redshift's text). blobValue (varbyte): lowercase hex.
//   - anything else: Redshift's text.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  type ColumnMetadata,
  type DescribeStatementResponse,
  type Field,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { doubleValue, sqlHead, timestampValue, timestamptzValue } from './postgres';
import { WarehouseError, queryExistingRelations, type RunOptions, type StatementLedger, type Warehouse, type WarehouseRow } from './warehouse';

export type RedshiftTarget =
  | { clusterIdentifier: string; database: string; dbUser?: string; secretArn?: string }
  | { workgroupName: string; database: string; secretArn?: string };

export interface RedshiftDataWarehouseOptions {
  /** Made with createRedshiftDataClient (lib/aws/clients.ts). Only `send` is used. */
  client: Pick<RedshiftDataClient, 'send'>;
  target: RedshiftTarget;
  ledger: StatementLedger;
  /** How often DescribeStatement is called (and `heartbeat` with it); default 1000. */
  pollMs?: number;
}

/** BatchExecuteStatement takes at most this many SQL statements. */
const MAX_BATCH = 40;
/** StatementName's maximum length. */
const MAX_STATEMENT_NAME = 500;
const RUNNING = new Set(['SUBMITTED', 'PICKED', 'STARTED']);
/** Types whose longValue is a number: they fit a double exactly. */
const SMALL_INTEGERS = new Set(['int2', 'int4', 'smallint', 'integer', 'int']);

type Value = WarehouseRow[string];
type Description = DescribeStatementResponse;

export function statementName(key: string): string {
  return key.slice(0, MAX_STATEMENT_NAME);
}

/**
 * The ClientToken for a key: 64 hex characters. A statement submitted to replace a FAILED or
 * ABORTED one gets a token derived from that one's id too, or Redshift would hand back the failed
 * statement; a retry that finds the same failed id in the ledger derives the same token again.
 */
export function clientToken(key: string, replacing: string | null): string {
  return createHash('sha256')
    .update(replacing === null ? key : `${key}\n${replacing}`)
    .digest('hex');
}

/** One Field of GetStatementResult as a JSON-able value, by its column's type (see the top). */
export function fieldValue(field: Field, column: ColumnMetadata | undefined): Value {
  const type = column?.typeName?.toLowerCase() ?? '';
  if (field.isNull) return null;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) return SMALL_INTEGERS.has(type) ? field.longValue : String(field.longValue);
  if (field.doubleValue !== undefined) return doubleValue(field.doubleValue);
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue).toString('hex');
  if (field.stringValue !== undefined) {
    if (type === 'timestamptz') return timestamptzValue(field.stringValue);
    if (type === 'timestamp') return timestampValue(field.stringValue);
    return field.stringValue;
  }
  throw new WarehouseError(`column ${column?.name ?? '?'}: a Redshift field of a kind this client does not know (${JSON.stringify(field)})`);
}

export function recordRow(record: Field[], columns: ColumnMetadata[]): WarehouseRow {
  const row: WarehouseRow = {};
  record.forEach((field, i) => {
    const column = columns[i];
    row[column?.name ?? column?.label ?? `column${i + 1}`] = fieldValue(field, column);
  });
  return row;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What failed in a FAILED statement: Redshift's error, and for a batch the sub-statement that failed. */
function failureError(key: string, d: Description): WarehouseError {
  const subs = d.SubStatements ?? [];
  const index = subs.findIndex((s) => s.Status === 'FAILED' || s.Error);
  const sub = subs[index];
  const where = sub ? `; statement ${index + 1} of ${subs.length} (${sub.Id}) ${sub.Status ?? ''}: ${sub.Error ?? 'no error given'}. Statement: ${sqlHead(sub.QueryString ?? '')}` : '';
  const whole = sub ? '' : d.QueryString ? `. Statement: ${sqlHead(d.QueryString)}` : '';
  return new WarehouseError(`${key}: Redshift statement ${d.Id} failed: ${d.Error ?? 'no error given'}${where}${whole}`, sub?.QueryString ?? d.QueryString ?? null);
}

export class RedshiftDataWarehouse implements Warehouse {
  readonly kind = 'redshift' as const;
  private readonly client: Pick<RedshiftDataClient, 'send'>;
  private readonly target: RedshiftTarget;
  private readonly ledger: StatementLedger;
  private readonly pollMs: number;

  constructor(options: RedshiftDataWarehouseOptions) {
    this.client = options.client;
    this.target = options.target;
    this.ledger = options.ledger;
    this.pollMs = options.pollMs ?? 1000;
  }

  async transaction(statements: string[], options: RunOptions): Promise<void> {
    if (statements.length === 0) return;
    if (statements.length > MAX_BATCH) {
      throw new WarehouseError(`${options.key}: ${statements.length} statements in one transaction; Redshift's BatchExecuteStatement takes at most ${MAX_BATCH}`);
    }
    await this.run(options, async (token) => {
      const out = await this.client.send(new BatchExecuteStatementCommand({ ...this.common(options.key, token), Sqls: statements, ExecutionMode: 'TRANSACTION' }));
      return out.Id;
    });
  }

  async query(sql: string, options: RunOptions): Promise<WarehouseRow[]> {
    const { id, description } = await this.run(options, async (token) => {
      const out = await this.client.send(new ExecuteStatementCommand({ ...this.common(options.key, token), Sql: sql }));
      return out.Id;
    });
    return description.HasResultSet === false ? [] : this.rows(id, options.key);
  }

  existingRelations(schema: string, names: string[], options: RunOptions): Promise<string[]> {
    return queryExistingRelations(this, schema, names, options);
  }

  async close(): Promise<void> {
    // The client is the caller's: it made it, it destroys it.
  }

  private common(key: string, token: string) {
    const t = this.target;
    const where = 'clusterIdentifier' in t ? { ClusterIdentifier: t.clusterIdentifier, DbUser: t.dbUser } : { WorkgroupName: t.workgroupName };
    return { ...where, Database: t.database, SecretArn: t.secretArn, StatementName: statementName(key), ClientToken: token };
  }

  /**
   * Re-attaches to the key's statement or submits a new one (recording its id at once), then waits
   * for it to finish; returns its id and last description.
   */
  private async run(options: RunOptions, submit: (token: string) => Promise<string | undefined>): Promise<{ id: string; description: Description }> {
    const { key } = options;
    const recorded = await this.ledger.get(key);
    const earlier = recorded === null ? null : await this.describe(recorded, key);
    if (recorded !== null && earlier?.Status === 'FINISHED') return { id: recorded, description: earlier };
    if (recorded !== null && RUNNING.has(earlier?.Status ?? '')) return { id: recorded, description: await this.waitForEnd(recorded, options) };
    if (options.signal?.aborted) throw new WarehouseError(`cancelled: ${key} (before it was submitted to Redshift)`);
    const id = await submit(clientToken(key, recorded)).catch((err: unknown) => {
      throw new WarehouseError(`${key}: submitting to the Redshift Data API failed: ${errorText(err)}`);
    });
    if (!id) throw new WarehouseError(`${key}: the Redshift Data API returned no statement id`);
    await this.ledger.put(key, id);
    return { id, description: await this.waitForEnd(id, options) };
  }

  /** DescribeStatement; null when Redshift does not know the id (any more). */
  private async describe(id: string, key: string): Promise<Description | null> {
    try {
      return await this.client.send(new DescribeStatementCommand({ Id: id }));
    } catch (err) {
      if ((err as { name?: string }).name === 'ResourceNotFoundException') return null;
      throw new WarehouseError(`${key}: DescribeStatement of Redshift statement ${id} failed: ${errorText(err)}`);
    }
  }

  /** DescribeStatement every pollMs, heartbeating, until the statement ends; an abort cancels it. */
  private async waitForEnd(id: string, options: RunOptions): Promise<Description> {
    const started = Date.now();
    for (;;) {
      if (options.signal?.aborted) throw await this.cancel(id, options.key);
      const d = await this.describe(id, options.key);
      if (!d) throw new WarehouseError(`${options.key}: Redshift does not know statement ${id}`);
      const status = d.Status ?? 'UNKNOWN';
      options.heartbeat?.({ elapsedMs: Date.now() - started, status });
      if (status === 'FINISHED') return d;
      if (status === 'FAILED') throw failureError(options.key, d);
      if (status === 'ABORTED') throw new WarehouseError(`${options.key}: Redshift statement ${id} aborted`, d.QueryString ?? null);
      try {
        await sleep(this.pollMs, undefined, { signal: options.signal });
      } catch {
        // Only an abort rejects the sleep; the top of the loop handles it.
      }
    }
  }

  private async cancel(id: string, key: string): Promise<WarehouseError> {
    const note = await this.client.send(new CancelStatementCommand({ Id: id })).then(
      () => 'CancelStatement sent',
      (err: unknown) => `CancelStatement failed: ${errorText(err)}`,
    );
    return new WarehouseError(`cancelled: ${key} (Redshift statement ${id}; ${note})`);
  }

  /** Every page of GetStatementResult as rows. */
  private async rows(id: string, key: string): Promise<WarehouseRow[]> {
    const rows: WarehouseRow[] = [];
    let columns: ColumnMetadata[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(new GetStatementResultCommand({ Id: id, NextToken: nextToken })).catch((err: unknown) => {
        throw new WarehouseError(`${key}: GetStatementResult of Redshift statement ${id} failed: ${errorText(err)}`);
      });
      if (page.ColumnMetadata?.length) columns = page.ColumnMetadata; // sent with the first page at least
      for (const record of page.Records ?? []) rows.push(recordRow(record, columns));
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }
}
