// What Danau knows about a source database and its tables. Plain data: safe to pass through Temporal.
export type SourceEngine = 'mysql' | 'postgres';

export interface SourceRecord {
  sourceName: string;
  engine: SourceEngine;
  databaseName: string;
  /**
   * What holds the connection string, resolved by the secret provider (lib/secrets) when a
   * connection is made: an environment variable name (DANAU_SECRETS=env) or a Secrets Manager
   * secret name or ARN (DANAU_SECRETS=secretsmanager).
   */
  connectionSecret: string;
  description: string;
}

export interface SourceColumn {
  name: string;
  /** information_schema data_type, e.g. `int`, `character varying`. */
  dataType: string;
  /** The full declared type, e.g. `int(10) unsigned`, `numeric(10,3)`. */
  columnType: string;
  nullable: boolean;
  numericPrecision: number | null;
  numericScale: number | null;
}

export interface SourceTableDescription {
  schema: string;
  table: string;
  columns: SourceColumn[];
  /** Primary key columns in key order; empty when the table has none. */
  primaryKey: string[];
  /**
   * PostgreSQL only: columns whose values can be stored out of line (TOAST) while the table's
   * replica identity is DEFAULT. An update that leaves such a value alone does not send it.
   */
  unloggedLargeColumns?: string[];
}

/** A live connection to one source database. */
export interface SourceDatabase {
  readonly engine: SourceEngine;
  /** Null when the table does not exist. */
  describeTable(schema: string, table: string): Promise<SourceTableDescription | null>;
  /** Every row's primary key as text (values joined by `|`), for reconciliation. */
  readKeys(schema: string, table: string, primaryKey: string[]): Promise<string[]>;
  /** Connects (if not connected) and runs a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
