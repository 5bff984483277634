// The warehouse, one interface with two real implementations: PostgreSQL through `pg` on one machine
// (lib/warehouse/postgres.ts) and Redshift through the Redshift Data API in production
// (lib/warehouse/redshift-data.ts). Model builds hand it SQL in the common subset of both dialects.
import { identifierLiteral } from '../sql/identifiers';

/** A row as the warehouse returns it: column name to a JSON-able value (numbers, strings, booleans, null). */
export type WarehouseRow = Record<string, string | number | boolean | null>;

export interface RunOptions {
  /**
   * Identifies this piece of work across attempts, e.g. `build:dim_patient:<batch>`. Redshift records
   * the statement id under it, so a retried activity re-attaches to the running or finished statement
   * instead of running it again. PostgreSQL runs synchronously and uses it only in error messages.
   */
  key: string;
  /** Called while a statement runs (activity heartbeats). */
  heartbeat?: (progress: { elapsedMs: number; status: string }) => void;
  /** Aborting cancels the statement (Redshift: CancelStatement; PostgreSQL: pg_cancel_backend). */
  signal?: AbortSignal;
}

export interface Warehouse {
  readonly kind: 'postgres' | 'redshift';
  /** Runs the statements in one transaction: all of them take effect, or none. */
  transaction(statements: string[], options: RunOptions): Promise<void>;
  /** Runs one read-only statement and returns all its rows (paged as needed). */
  query(sql: string, options: RunOptions): Promise<WarehouseRow[]>;
  /** Which of `names` exist in `schema` as a table, view or materialized view (existingRelationsSql). */
  existingRelations(schema: string, names: string[], options: RunOptions): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The statement that lists which of `names` exist in `schema`. pg_class answers alike on PostgreSQL
 * and Redshift (a leader-node catalog query), and, unlike information_schema.tables, it also lists
 * PostgreSQL's materialized views (relkind m; Redshift shows its own as views, v).
 */
export function existingRelationsSql(schema: string, names: string[]): string {
  return (
    'SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
    `WHERE n.nspname = ${identifierLiteral(schema)} AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relname IN (${names.map(identifierLiteral).join(', ')}) ORDER BY 1`
  );
}

/** existingRelations on any warehouse: one catalog query, none for no names. */
export async function queryExistingRelations(warehouse: Pick<Warehouse, 'query'>, schema: string, names: string[], options: RunOptions): Promise<string[]> {
  if (!names.length) return [];
  const rows = await warehouse.query(existingRelationsSql(schema, names), options);
  return rows.map((r) => String(r.name));
}

/**
 * The warehouse's own count of a table's live rows, kept as rows are written: PostgreSQL's
 * statistics (`pg_stat_user_tables.n_live_tup`, up to date when a transaction ends), Redshift's
 * `svv_table_info.estimated_visible_rows`. What a build reports instead of a COUNT(*), which would
 * read the whole table after a build that touched a batch of it.
 */
export function estimatedRowsSql(kind: Warehouse['kind'], schema: string, name: string): string {
  return kind === 'postgres'
    ? `SELECT n_live_tup AS estimate FROM pg_catalog.pg_stat_user_tables WHERE schemaname = ${identifierLiteral(schema)} AND relname = ${identifierLiteral(name)}`
    : `SELECT estimated_visible_rows AS estimate FROM svv_table_info WHERE "schema" = ${identifierLiteral(schema)} AND "table" = ${identifierLiteral(name)}`;
}

/** estimatedRowsSql on any warehouse: the estimate, or null when the warehouse has none. */
export async function queryEstimatedRows(warehouse: Pick<Warehouse, 'kind' | 'query'>, schema: string, name: string, options: RunOptions): Promise<number | null> {
  const [row] = await warehouse.query(estimatedRowsSql(warehouse.kind, schema, name), options);
  if (row?.estimate === null || row?.estimate === undefined) return null;
  const estimate = Number(row.estimate);
  return Number.isFinite(estimate) && estimate >= 0 ? Math.round(estimate) : null;
}

/** Where Redshift statement ids are kept between attempts (the control plane in production). */
export interface StatementLedger {
  get(key: string): Promise<string | null>;
  put(key: string, statementId: string): Promise<void>;
}

export class WarehouseError extends Error {
  constructor(
    message: string,
    /** The statement that failed, when known. */
    readonly sql: string | null = null,
  ) {
    super(message);
    this.name = 'WarehouseError';
  }
}
