import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mysqlLakeType, postgresLakeType } from '../../lib/tables/lake-types';
import type { SourceColumn } from '../../lib/sources/types';

const col = (dataType: string, columnType = dataType, numericPrecision: number | null = null, numericScale: number | null = null): SourceColumn => ({
  name: 'c',
  dataType,
  columnType,
  nullable: true,
  numericPrecision,
  numericScale,
});

describe('mysqlLakeType', () => {
  const cases: [SourceColumn, string][] = [
    [col('tinyint', 'tinyint(1)'), 'boolean'],
    [col('tinyint', 'tinyint(4)'), 'int'],
    [col('int', 'int(10) unsigned'), 'bigint'],
    [col('bigint', 'bigint(20) unsigned'), 'decimal(20,0)'],
    [col('bigint', 'bigint(20)'), 'bigint'],
    [col('decimal', 'decimal(12,2)', 12, 2), 'decimal(12,2)'],
    [col('datetime', 'datetime(3)'), 'timestamp'],
    [col('enum', "enum('A','B')"), 'string'],
    [col('json'), 'string'],
    [col('longblob'), 'binary'],
  ];
  for (const [c, expected] of cases) it(`${c.columnType} -> ${expected}`, () => assert.deepEqual(mysqlLakeType(c), { lakeType: expected }));

  it('refuses spatial types, naming the type', () => {
    assert.deepEqual(mysqlLakeType(col('geometry', 'point')), { unsupported: 'MySQL type point has no lake type' });
  });
});

describe('postgresLakeType', () => {
  it('maps exact numerics with and without a declared precision', () => {
    assert.deepEqual(postgresLakeType(col('numeric', 'numeric(10,3)', 10, 3)), { lakeType: 'decimal(10,3)' });
    assert.deepEqual(postgresLakeType(col('numeric', 'numeric')), { lakeType: 'string' });
  });
  it('maps time zones, json and bytea', () => {
    assert.deepEqual(postgresLakeType(col('timestamp with time zone')), { lakeType: 'timestamp' });
    assert.deepEqual(postgresLakeType(col('jsonb')), { lakeType: 'string' });
    assert.deepEqual(postgresLakeType(col('bytea')), { lakeType: 'binary' });
  });
  it('refuses types it cannot carry', () => {
    assert.ok('unsupported' in postgresLakeType(col('USER-DEFINED', 'geometry')));
    assert.ok('unsupported' in postgresLakeType(col('tsvector')));
  });
});
