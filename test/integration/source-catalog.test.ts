// Reading table definitions from the live source databases (MariaDB and PostgreSQL of the stack).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MysqlSource } from '../../lib/sources/mysql';
import { PostgresSource } from '../../lib/sources/postgres';
import { checkAgainstSource, parseTableDefinition } from '../../lib/tables/definition';
import { testConfig, uniqueSuffix } from '../support/stack';

const env = testConfig().environment;
const clinicUrl = env.DANAU_SOURCE_CLINIC_URL!;
const labsUrl = env.DANAU_SOURCE_LABS_URL!;

describe('MariaDB source catalog', () => {
  const table = `zz_test_${uniqueSuffix()}`;
  const keyless = `${table}_nokey`;
  let admin: mysql.Connection;
  let source: MysqlSource;
  before(async () => {
    admin = await mysql.createConnection({ uri: clinicUrl });
    await admin.query(`CREATE TABLE ${table} (
      id BIGINT UNSIGNED NOT NULL, sub INT NOT NULL, price DECIMAL(12,2), is_active TINYINT(1), note TEXT, doc JSON,
      seen_at DATETIME(3) NOT NULL, blob_col VARBINARY(16), place POINT, PRIMARY KEY (sub, id))`);
    await admin.query(`CREATE TABLE ${keyless} (a INT, seen_at DATETIME)`);
    source = new MysqlSource(clinicUrl);
  });
  after(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}, ${keyless}`);
    await admin.end();
    await source.close();
  });

  it('describes columns and the composite primary key in key order', async () => {
    const d = await source.describeTable('clinic', table);
    assert.ok(d);
    assert.deepEqual(d.primaryKey, ['sub', 'id']);
    const byName = Object.fromEntries(d.columns.map((c) => [c.name, c]));
    assert.equal(byName.id!.columnType, 'bigint(20) unsigned');
    assert.equal(byName.price!.numericPrecision, 12);
    assert.equal(byName.price!.numericScale, 2);
    assert.equal(byName.seen_at!.nullable, false);
  });

  it('maps what it can and names the column it cannot', async () => {
    const d = (await source.describeTable('clinic', table))!;
    const def = parseTableDefinition({ source: 'clinic', schema: 'clinic', table, precombineField: 'seen_at', partitionField: 'seen_at' });
    const check = checkAgainstSource(def, 'mysql', d);
    assert.deepEqual(check.problems, ['column place: MySQL type point has no lake type']);
    const lake = Object.fromEntries(check.columns.map((c) => [c.name, c.lakeType]));
    assert.deepEqual(lake, {
      id: 'decimal(20,0)',
      sub: 'int',
      price: 'decimal(12,2)',
      is_active: 'boolean',
      note: 'string',
      doc: 'string',
      seen_at: 'timestamp',
      blob_col: 'binary',
    });
  });

  it('reports a table without a primary key, and a missing table as null', async () => {
    const d = (await source.describeTable('clinic', keyless))!;
    assert.deepEqual(d.primaryKey, []);
    assert.equal(await source.describeTable('clinic', 'no_such_table'), null);
  });
});

describe('PostgreSQL source catalog', () => {
  const schema = `zz_test_${uniqueSuffix()}`;
  let admin: pg.Client;
  let source: PostgresSource;
  before(async () => {
    admin = new pg.Client({ connectionString: labsUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}."Mixed Case" (
      b int NOT NULL, a bigint NOT NULL, amount numeric(10,3), free numeric, at timestamptz NOT NULL,
      local_at timestamp, body jsonb, raw bytea, tags text[], search tsvector, PRIMARY KEY (b, a))`);
    source = new PostgresSource(labsUrl);
  });
  after(async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await source.close();
  });

  it('describes a table with a quoted name, its key order and numeric precision', async () => {
    const d = await source.describeTable(schema, 'Mixed Case');
    assert.ok(d);
    assert.deepEqual(d.primaryKey, ['b', 'a']);
    const byName = Object.fromEntries(d.columns.map((c) => [c.name, c]));
    assert.equal(byName.amount!.columnType, 'numeric(10,3)');
    assert.equal(byName.amount!.numericScale, 3);
    assert.equal(byName.free!.numericPrecision, null);
    assert.equal(byName.b!.numericPrecision, null);
    // Default replica identity: the out-of-line-capable columns are named for the onboarding warning.
    assert.deepEqual(d.unloggedLargeColumns, ['amount', 'free', 'body', 'raw', 'tags', 'search']);
    await admin.query(`ALTER TABLE ${schema}."Mixed Case" REPLICA IDENTITY FULL`);
    assert.deepEqual((await source.describeTable(schema, 'Mixed Case'))!.unloggedLargeColumns, []);
  });

  it('maps types and refuses tsvector by name', async () => {
    const d = (await source.describeTable(schema, 'Mixed Case'))!;
    const check = checkAgainstSource(
      parseTableDefinition({ source: 'labs', schema, table: 'Mixed_Case', precombineField: 'at', partitionField: 'local_at' }),
      'postgres',
      d,
    );
    assert.deepEqual(check.problems, ['column search: PostgreSQL type tsvector has no lake type']);
    const lake = Object.fromEntries(check.columns.map((c) => [c.name, c.lakeType]));
    assert.equal(lake.amount, 'decimal(10,3)');
    assert.equal(lake.free, 'string');
    assert.equal(lake.at, 'timestamp');
    assert.equal(lake.raw, 'binary');
    assert.equal(lake.tags, 'string');
  });

  it('returns null for a missing table', async () => {
    assert.equal(await source.describeTable(schema, 'nope'), null);
  });
});
