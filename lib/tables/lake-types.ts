// Source column types -> lake (Spark SQL / Hudi) types. The mapping follows what AWS DMS writes to
// Parquet for each source type, so the same raw files read the same way in either setting.
import type { SourceColumn } from '../sources/types';

export type LakeTypeResult = { lakeType: string } | { unsupported: string };

const decimal = (c: SourceColumn, fallback: string): string =>
  c.numericPrecision != null ? `decimal(${c.numericPrecision},${c.numericScale ?? 0})` : fallback;

export function mysqlLakeType(c: SourceColumn): LakeTypeResult {
  const t = c.dataType.toLowerCase();
  const unsigned = /unsigned/i.test(c.columnType);
  switch (t) {
    case 'tinyint':
      return { lakeType: /^tinyint\(1\)/i.test(c.columnType) ? 'boolean' : 'int' };
    case 'smallint':
    case 'mediumint':
    case 'year':
      return { lakeType: 'int' };
    case 'int':
    case 'integer':
      return { lakeType: unsigned ? 'bigint' : 'int' };
    case 'bigint':
      return { lakeType: unsigned ? 'decimal(20,0)' : 'bigint' };
    case 'decimal':
    case 'numeric':
      return { lakeType: decimal(c, 'decimal(10,0)') };
    case 'float':
      return { lakeType: 'float' };
    case 'double':
    case 'real':
      return { lakeType: 'double' };
    case 'bit':
      return { lakeType: /^bit\(1\)$/i.test(c.columnType) ? 'boolean' : 'bigint' };
    case 'date':
      return { lakeType: 'date' };
    case 'datetime':
    case 'timestamp':
      return { lakeType: 'timestamp' };
    case 'time':
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'enum':
    case 'set':
    case 'json':
      return { lakeType: 'string' };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { lakeType: 'binary' };
    default:
      return { unsupported: `MySQL type ${c.columnType} has no lake type` };
  }
}

export function postgresLakeType(c: SourceColumn): LakeTypeResult {
  const t = c.dataType.toLowerCase();
  switch (t) {
    case 'smallint':
    case 'integer':
      return { lakeType: 'int' };
    case 'bigint':
      return { lakeType: 'bigint' };
    case 'numeric':
      // Unconstrained numeric: DMS writes it as a string unless told a scale; keep it exact.
      return c.numericPrecision != null ? { lakeType: decimal(c, '') } : { lakeType: 'string' };
    case 'real':
      return { lakeType: 'float' };
    case 'double precision':
      return { lakeType: 'double' };
    case 'boolean':
      return { lakeType: 'boolean' };
    case 'date':
      return { lakeType: 'date' };
    case 'timestamp without time zone':
    case 'timestamp with time zone':
      return { lakeType: 'timestamp' };
    case 'time without time zone':
    case 'time with time zone':
    case 'interval':
    case 'text':
    case 'character varying':
    case 'character':
    case 'uuid':
    case 'json':
    case 'jsonb':
    case 'inet':
    case 'cidr':
    case 'macaddr':
    case 'xml':
    case 'money':
      return { lakeType: 'string' };
    case 'bytea':
      return { lakeType: 'binary' };
    case 'array':
      return { lakeType: 'string' };
    default:
      return { unsupported: `PostgreSQL type ${c.columnType} has no lake type` };
  }
}
