// The warehouse on one machine: PostgreSQL through `pg`. Statements run synchronously on one pooled
// connection; `key` only names the work in error messages (nothing is re-attached after a crash:
// the connection, and with it any open transaction, is gone).
//
// Sessions run with TimeZone UTC and DateStyle ISO (the `options` startup parameter), as Redshift's
// sessions do by default, so `now()::date` and friends mean the same in both warehouses.
//
// Values come back JSON-able and the same as RedshiftDataWarehouse gives them:
//   - bigint (int8) and numeric: strings, PostgreSQL's exact text (no rounding through a double).
//   - smallint, integer, oid, real, double precision: numbers; NaN and ±Infinity as the strings
//     "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
//   - boolean: true/false. NULL: null.
//   - timestamp with time zone: the instant in UTC, 'yyyy-MM-ddTHH:mm:ss.SSSSSSZ' (microseconds).
//   - timestamp without time zone: 'yyyy-MM-ddTHH:mm:ss.SSSSSS', no zone (it has none).
//   - date: 'yyyy-MM-dd'. bytea: lowercase hex without the `\x`.
//   - anything else (text, time, json, arrays, intervals, infinity, BC dates): PostgreSQL's own text.
// Parsers are given per query (pg's `types` option), never installed globally: other code in the
// process (the control plane, source readers) keeps pg's defaults.
import pg from 'pg';
import { WarehouseError, queryExistingRelations, type RunOptions, type Warehouse, type WarehouseRow } from './warehouse';

type Value = WarehouseRow[string];

export interface PostgresWarehouseOptions {
  /** Connections in the pool; default 4. */
  max?: number;
  /** How often `heartbeat` is called while a statement runs; default 5000. */
  heartbeatMs?: number;
}

/** Characters of a statement quoted in an error message. */
const SQL_HEAD_CHARS = 200;

export function sqlHead(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > SQL_HEAD_CHARS ? `${flat.slice(0, SQL_HEAD_CHARS)}…` : flat;
}

// --- values ------------------------------------------------------------------------------------

const TIMESTAMP_TEXT = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;
const TIMESTAMPTZ_TEXT = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/;

const micros = (fraction: string | undefined) => (fraction ?? '').padEnd(6, '0');

/** '2024-01-02 03:04:05.5' (PostgreSQL's and Redshift's text) → '2024-01-02T03:04:05.500000'; other text as it is. */
export function timestampValue(text: string): string {
  const m = TIMESTAMP_TEXT.exec(text);
  if (!m) return text; // infinity, BC dates, years past 9999: kept as the warehouse wrote them
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${micros(m[7])}`;
}

/**
 * '2024-01-02 10:04:05.5+07' → '2024-01-02T03:04:05.500000Z'. Whole seconds go through Date (the
 * offset can be any, e.g. +05:30 or a historical +07:07:12); the microseconds are carried as text,
 * since a Date holds only milliseconds.
 */
export function timestamptzValue(text: string): string {
  const m = TIMESTAMPTZ_TEXT.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om, os] = m;
  const offsetSeconds = (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0));
  const at = new Date(0);
  at.setUTCFullYear(Number(y), Number(mo) - 1, Number(d)); // not Date.UTC: it maps years 0-99 to 19xx
  at.setUTCHours(Number(h), Number(mi), Number(s) - offsetSeconds, 0);
  const iso = at.toISOString();
  if (!/^\d{4}-/.test(iso)) return text; // moved past year 9999 or before year 0
  return `${iso.slice(0, 19)}.${micros(fraction)}Z`;
}

/** A double as a JSON-able value: JSON has no NaN or Infinity. */
export function doubleValue(n: number): number | string {
  return Number.isFinite(n) ? n : n > 0 ? 'Infinity' : n < 0 ? '-Infinity' : 'NaN';
}

type TextParser = (text: string) => Value;

const keepText: TextParser = (text) => text;
const asNumber: TextParser = (text) => doubleValue(Number(text));

/** Text parsers by type OID (pg_type); the rest keep PostgreSQL's text. */
const PARSERS = new Map<number, TextParser>([
  [16, (text) => text === 't'], // boolean
  [17, (text) => text.replace(/^\\x/, '')], // bytea (hex output, PostgreSQL's default)
  [20, keepText], // bigint: exact
  [21, asNumber], // smallint
  [23, asNumber], // integer
  [26, asNumber], // oid
  [700, asNumber], // real
  [701, asNumber], // double precision
  [1082, keepText], // date: 'yyyy-MM-dd' with DateStyle ISO
  [1114, timestampValue],
  [1184, timestamptzValue],
  [1700, keepText], // numeric: exact
]);

const warehouseTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number) => PARSERS.get(oid) ?? keepText) as pg.CustomTypesConfig['getTypeParser'],
};

// --- running -----------------------------------------------------------------------------------

function cancelledError(options: RunOptions, sql: string | null): WarehouseError {
  return new WarehouseError(`cancelled: ${options.key}${sql === null ? '' : ` while running: ${sqlHead(sql)}`}`, sql);
}

function statementError(err: unknown, sql: string, where: string, options: RunOptions): WarehouseError {
  const e = err as { message?: string; code?: string; detail?: string; hint?: string };
  const message = e.message ?? String(err);
  const extra = [e.code && `SQLSTATE ${e.code}`, e.detail, e.hint && `hint: ${e.hint}`].filter(Boolean).join('; ');
  return new WarehouseError(`${options.key}: ${where} failed: ${message}${extra ? ` (${extra})` : ''}. Statement: ${sqlHead(sql)}`, sql);
}

/** Calls `heartbeat` every `everyMs` until stopped; returns the stop function. */
function startHeartbeat(options: RunOptions, everyMs: number, status: () => string): () => void {
  const { heartbeat } = options;
  if (!heartbeat) return () => undefined;
  const started = Date.now();
  const timer = setInterval(() => {
    try {
      heartbeat({ elapsedMs: Date.now() - started, status: status() });
    } catch {
      // A throw in a timer callback would end the worker process; the next beat tries again.
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** One checked-out connection, as `transaction` and `query` use it. */
interface Session {
  /** Runs one statement; `where` names it in an error ("statement 2 of 3"), and in heartbeats. */
  run(sql: string, where: string, types?: pg.CustomTypesConfig): Promise<pg.QueryResult>;
  /** Marks the connection unfit for reuse (a failed ROLLBACK): it is closed, not pooled. */
  discard(): void;
}

export class PostgresWarehouse implements Warehouse {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly heartbeatMs: number;
  /** pg_cancel_backend calls under way: close() waits for them. */
  private readonly cancelling = new Set<Promise<void>>();

  constructor(
    private readonly connectionString: string,
    options: PostgresWarehouseOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.pool = new pg.Pool({ connectionString, max: options.max ?? 4, options: '-c TimeZone=UTC -c DateStyle=ISO,YMD' });
    // An idle connection that breaks (server restart) emits 'error' on the pool; unhandled, it would
    // end the process. The pool drops it, and the next checkout connects anew.
    this.pool.on('error', () => undefined);
  }

  async transaction(statements: string[], options: RunOptions): Promise<void> {
    await this.session(options, async (session) => {
      await session.run('BEGIN', 'BEGIN');
      try {
        for (const [i, sql] of statements.entries()) await session.run(sql, `statement ${i + 1} of ${statements.length}`);
        await session.run('COMMIT', 'COMMIT');
      } catch (err) {
        await session.run('ROLLBACK', 'ROLLBACK').catch(() => session.discard());
        throw err;
      }
    });
  }

  async query(sql: string, options: RunOptions): Promise<WarehouseRow[]> {
    return this.session(options, async (session) => {
      const result = await session.run(sql, 'query', warehouseTypes);
      return result.rows as WarehouseRow[];
    });
  }

  existingRelations(schema: string, names: string[], options: RunOptions): Promise<string[]> {
    return queryExistingRelations(this, schema, names, options);
  }

  async close(): Promise<void> {
    await Promise.all(this.cancelling);
    await this.pool.end();
  }

  /**
   * Checks out a connection for `work`, with heartbeats and cancellation: an abort of
   * `options.signal` cancels the running statement from another connection (pg_cancel_backend),
   * and the statements after it are not started. The connection goes back to the pool only when
   * nothing went wrong: after a cancel it is closed, so that a cancel request arriving late cannot
   * hit the next user's statement.
   */
  private async session<T>(options: RunOptions, work: (session: Session) => Promise<T>): Promise<T> {
    if (options.signal?.aborted) throw cancelledError(options, null);
    const client = await this.connect(options);
    let status = 'connected';
    let reusable = true;
    const stopHeartbeat = startHeartbeat(options, this.heartbeatMs, () => status);
    const onAbort = () => this.cancelBackend(client);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const session: Session = {
      run: async (sql, where, types) => {
        if (options.signal?.aborted) throw cancelledError(options, sql);
        status = `running ${where}`;
        try {
          return await client.query({ text: sql, ...(types ? { types } : {}) });
        } catch (err) {
          // Only our own abort is "cancelled": a statement_timeout ends with the same SQLSTATE
          // (57014) and is reported with PostgreSQL's message like any other failure.
          if (options.signal?.aborted) throw cancelledError(options, sql);
          throw statementError(err, sql, where, options);
        }
      },
      discard: () => {
        reusable = false;
      },
    };
    try {
      return await work(session);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      stopHeartbeat();
      client.release(!reusable || options.signal?.aborted === true);
    }
  }

  private async connect(options: RunOptions): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw new WarehouseError(`${options.key}: cannot connect to the PostgreSQL warehouse: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** pg_cancel_backend from a connection of its own: the pool's may all be busy. */
  private cancelBackend(client: pg.PoolClient): void {
    const cancel = (async () => {
      const pid = (client as unknown as { processID: number | null }).processID; // from BackendKeyData at connect
      if (pid === null) return;
      const other = new pg.Client({ connectionString: this.connectionString });
      try {
        await other.connect();
        await other.query('SELECT pg_cancel_backend($1)', [pid]);
      } finally {
        await other.end();
      }
    })().catch(() => {
      // Nothing to do: the statement then ends on its own, and the session closes the connection.
    });
    this.cancelling.add(cancel);
    void cancel.finally(() => this.cancelling.delete(cancel));
  }
}
