import mysql from 'mysql2/promise';
import { quoteSourceIdent, quoteSourceQualified } from '../sql/identifiers';
import type { SourceColumn, SourceDatabase, SourceTableDescription } from './types';

interface ColumnRow extends mysql.RowDataPacket {
  COLUMN_NAME: string;
  DATA_TYPE: string;
  COLUMN_TYPE: string;
  IS_NULLABLE: string;
  NUMERIC_PRECISION: number | null;
  NUMERIC_SCALE: number | null;
  COLUMN_KEY: string;
}

export class MysqlSource implements SourceDatabase {
  readonly engine = 'mysql' as const;
  private readonly pool: mysql.Pool;

  constructor(connectionString: string) {
    // Keys read as text (big numbers and dates exactly), for reconciliation.
    this.pool = mysql.createPool({ uri: connectionString, connectionLimit: 2, connectTimeout: 10_000, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  }

  async describeTable(schema: string, table: string): Promise<SourceTableDescription | null> {
    const [columns] = await this.pool.query<ColumnRow[]>(
      `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_PRECISION, NUMERIC_SCALE, COLUMN_KEY
         FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
        ORDER BY ORDINAL_POSITION`,
      [schema, table],
    );
    if (columns.length === 0) return null;
    const [pk] = await this.pool.query<(mysql.RowDataPacket & { COLUMN_NAME: string })[]>(
      `SELECT COLUMN_NAME FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY'
        ORDER BY SEQ_IN_INDEX`,
      [schema, table],
    );
    const exact = new Set(['decimal', 'numeric']);
    return {
      schema,
      table,
      columns: columns.map(
        (r): SourceColumn => ({
          name: r.COLUMN_NAME,
          dataType: r.DATA_TYPE,
          columnType: r.COLUMN_TYPE,
          nullable: r.IS_NULLABLE === 'YES',
          numericPrecision: exact.has(r.DATA_TYPE) ? Number(r.NUMERIC_PRECISION) : null,
          numericScale: exact.has(r.DATA_TYPE) ? Number(r.NUMERIC_SCALE) : null,
        }),
      ),
      primaryKey: pk.map((r) => r.COLUMN_NAME),
    };
  }

  async readKeys(schema: string, table: string, primaryKey: string[]): Promise<string[]> {
    const [rows] = await this.pool.query<mysql.RowDataPacket[]>({
      sql: `SELECT ${primaryKey.map((k) => quoteSourceIdent(k, 'mysql')).join(', ')} FROM ${quoteSourceQualified(schema, table, 'mysql')}`,
      rowsAsArray: true,
    });
    return (rows as unknown as unknown[][]).map((r) => r.map((v) => (v === null ? '' : Buffer.isBuffer(v) ? v.toString('hex') : String(v as string | number))).join('|'));
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
