import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mysqlLakeType, postgresLakeType } from '../../lib/tables/lake-types';
import type { SourceColumn } from '../../lib/sources/types';
import { lakeColumnOfRelation } from '../../lib/capture/postgres';
import { lakeColumnOfBinlog } from '../../lib/capture/mysql';
import type { LakeColumn } from '../../lib/tables/definition';

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

describe('column types as the change stream describes them', () => {
  const known = (name: string, lakeType: string, sourceType = lakeType): LakeColumn => ({ name, lakeName: name, sourceType, lakeType, nullable: true });

  it('PostgreSQL relation columns: a retype is seen, an unchanged or unknown type keeps the onboarded column', () => {
    const numeric = (p: number, s: number) => ((p << 16) | s) + 4;
    const amount = known('amount', 'decimal(8,2)', 'numeric(8,2)');
    assert.equal(lakeColumnOfRelation({ name: 'amount', typeOid: 1700, typeModifier: numeric(8, 2), isKey: false }, amount), amount);
    assert.deepEqual(lakeColumnOfRelation({ name: 'amount', typeOid: 1700, typeModifier: numeric(12, 3), isKey: false }, amount), {
      name: 'amount',
      lakeName: 'amount',
      sourceType: 'numeric (was numeric(8,2))',
      lakeType: 'decimal(12,3)',
      nullable: true,
    });
    assert.equal(lakeColumnOfRelation({ name: 'n', typeOid: 20, typeModifier: -1, isKey: false }, known('n', 'int', 'integer')).lakeType, 'bigint');
    assert.equal(lakeColumnOfRelation({ name: 'n', typeOid: 1700, typeModifier: -1, isKey: false }, undefined).lakeType, 'string');
    const domain = known('score', 'int', 'integer');
    assert.equal(lakeColumnOfRelation({ name: 'score', typeOid: 91234, typeModifier: -1, isKey: false }, domain), domain);
    assert.equal(lakeColumnOfRelation({ name: 'new_col', typeOid: 1184, typeModifier: -1, isKey: false }, undefined).lakeType, 'timestamp');
  });

  it('binlog table-map columns: a retype is seen; a tinyint that lost its display width stays boolean', () => {
    const schema = (COLUMN_TYPE: string, UNSIGNED?: boolean) => ({ COLUMN_NAME: 'c', COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', COLUMN_TYPE, UNSIGNED });
    const fee = known('c', 'decimal(8,2)');
    assert.equal(lakeColumnOfBinlog(schema('decimal(8,2)'), fee), fee);
    assert.equal(lakeColumnOfBinlog(schema('decimal(12,3)'), fee).lakeType, 'decimal(12,3)');
    assert.equal(lakeColumnOfBinlog(schema('int', true), known('c', 'int')).lakeType, 'bigint');
    assert.equal(lakeColumnOfBinlog(schema('int(10) unsigned'), undefined).lakeType, 'bigint');
    const flag = known('c', 'boolean', 'tinyint(1)');
    assert.equal(lakeColumnOfBinlog(schema('tinyint'), flag), flag);
    assert.equal(lakeColumnOfBinlog(schema('varchar(40) /*M!100301 COMPRESSED*/'), undefined).lakeType, 'string');
    assert.equal(lakeColumnOfBinlog(schema('geometry'), undefined).lakeType, 'string');
  });
});
