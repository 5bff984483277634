import pg from 'pg';
import { quoteSourceIdent, quoteSourceQualified } from '../sql/identifiers';
import type { SourceColumn, SourceDatabase, SourceTableDescription } from './types';

export class PostgresSource implements SourceDatabase {
  readonly engine = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(connectionString: string) {
    this.pool = new pg.Pool({ connectionString, max: 2, connectionTimeoutMillis: 10_000 });
    // A source restart drops idle clients; the next query reconnects (and the activity retries).
    this.pool.on('error', () => undefined);
  }

  async describeTable(schema: string, table: string): Promise<SourceTableDescription | null> {
    const columns = await this.pool.query<{
      column_name: string;
      data_type: string;
      column_type: string;
      is_nullable: string;
      numeric_precision: number | null;
      numeric_scale: number | null;
    }>(
      `SELECT c.column_name, c.data_type, format_type(a.atttypid, a.atttypmod) AS column_type, c.is_nullable,
              c.numeric_precision, c.numeric_scale
         FROM information_schema.columns c
         JOIN pg_catalog.pg_attribute a
           ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
        WHERE c.table_schema = $1 AND c.table_name = $2
        ORDER BY c.ordinal_position`,
      [schema, table],
    );
    if (columns.rowCount === 0) return null;
    const pk = await this.pool.query<{ column_name: string }>(
      `SELECT a.attname AS column_name
         FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey, a.attnum)`,
      [schema, table],
    );
    return {
      schema,
      table,
      columns: columns.rows.map(
        (r): SourceColumn => ({
          name: r.column_name,
          dataType: r.data_type === 'ARRAY' ? 'array' : r.data_type,
          columnType: r.column_type,
          nullable: r.is_nullable === 'YES',
          // information_schema reports precision 32/64 for floats and ints; only numeric's is declared.
          numericPrecision: r.data_type === 'numeric' ? r.numeric_precision : null,
          numericScale: r.data_type === 'numeric' ? r.numeric_scale : null,
        }),
      ),
      primaryKey: pk.rows.map((r) => r.column_name),
      unloggedLargeColumns: (
        await this.pool.query<{ attname: string }>(
          `SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.oid = format('%I.%I', $1::text, $2::text)::regclass AND c.relreplident = 'd'
              AND a.attnum > 0 AND NOT a.attisdropped AND a.attstorage <> 'p'
            ORDER BY a.attnum`,
          [schema, table],
        )
      ).rows.map((r) => r.attname),
    };
  }

  async readKeys(schema: string, table: string, primaryKey: string[]): Promise<string[]> {
    const cols = primaryKey.map((k) => `${quoteSourceIdent(k, 'postgres')}::text`).join(`, `);
    const { rows } = await this.pool.query<Record<string, string | null>>({
      text: `SELECT ${cols} FROM ${quoteSourceQualified(schema, table, 'postgres')}`,
      rowMode: 'array',
    } as pg.QueryConfig);
    return (rows as unknown as (string | null)[][]).map((r) => r.map((v) => v ?? '').join('|'));
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
