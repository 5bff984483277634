// PostgresWarehouse against the local stack's PostgreSQL, in a scratch database of its own (dropped
// after): all-or-nothing transactions, values by type, cancellation through the AbortSignal, and
// error messages that name the work and the statement.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresWarehouse, timestamptzValue, timestampValue } from '../../lib/warehouse/postgres';
import { WarehouseError } from '../../lib/warehouse/warehouse';
import { createScratchDatabase, type ScratchDatabase } from '../support/stack';

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<WarehouseError> {
  const err = await promise.then(
    () => assert.fail('expected a WarehouseError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WarehouseError, `expected a WarehouseError, got ${String(err)}`);
  assert.match(err.message, pattern);
  return err;
}

describe('PostgresWarehouse (local PostgreSQL)', () => {
  let db: ScratchDatabase;
  let warehouse: PostgresWarehouse;

  const tableExists = async (name: string) => {
    const [row] = await warehouse.query(`SELECT to_regclass('${name}') IS NOT NULL AS present`, { key: 'test:exists' });
    return row?.present;
  };

  before(async () => {
    db = await createScratchDatabase('danau_test_warehouse');
    warehouse = new PostgresWarehouse(db.url, { heartbeatMs: 100 });
  });

  after(async () => {
    await warehouse?.close();
    await db?.drop();
  });

  it('commits a transaction whole, and a transaction failing half-way leaves nothing behind', async () => {
    await warehouse.transaction(['CREATE TABLE kept (id int PRIMARY KEY)', 'INSERT INTO kept VALUES (1), (2)'], { key: 'test:kept' });
    assert.deepEqual(await warehouse.query('SELECT id FROM kept ORDER BY id', { key: 'test:read-kept' }), [{ id: 1 }, { id: 2 }]);

    const err = await rejectsWith(
      warehouse.transaction(['CREATE TABLE dropped_again (id int PRIMARY KEY)', 'INSERT INTO dropped_again VALUES (1)', 'INSERT INTO kept VALUES (3)', 'INSERT INTO kept VALUES (2)'], {
        key: 'build:dim_patient:batch-7',
      }),
      /build:dim_patient:batch-7: statement 4 of 4 failed: duplicate key value/,
    );
    assert.match(err.message, /SQLSTATE 23505/);
    assert.match(err.message, /Statement: INSERT INTO kept VALUES \(2\)$/);
    assert.equal(err.sql, 'INSERT INTO kept VALUES (2)');
    assert.equal(await tableExists('dropped_again'), false);
    assert.deepEqual(await warehouse.query('SELECT id FROM kept ORDER BY id', { key: 'test:read-kept' }), [{ id: 1 }, { id: 2 }]);
  });

  it('returns values by type: numeric and bigint exact as strings, timestamps in ISO form, dates, booleans, NULL', async () => {
    await warehouse.transaction(
      [
        `CREATE TABLE typed (
           id int, small smallint, big bigint, amount numeric(38,10), ratio double precision, share real,
           flag boolean, at_tz timestamptz, at_local timestamp, on_day date, label text, raw bytea)`,
        `INSERT INTO typed VALUES
           (1, 7, 9007199254740993, 12345678901234567890.1234567891, 0.1, 1.5, true,
            '2024-03-01 10:04:05.123456+07', '2024-03-01 10:04:05.5', '2024-02-29', 'héllo', '\\x0aff'),
           (2, NULL, NULL, NULL, 'NaN', '-Infinity', false, '1999-12-31 23:59:59-05:30', '2024-03-01 00:00:00', '0044-03-15', NULL, NULL)`,
      ],
      { key: 'test:typed' },
    );
    const rows = await warehouse.query('SELECT * FROM typed ORDER BY id', { key: 'test:read-typed' });
    assert.deepEqual(rows, [
      {
        id: 1,
        small: 7,
        big: '9007199254740993',
        amount: '12345678901234567890.1234567891',
        ratio: 0.1,
        share: 1.5,
        flag: true,
        at_tz: '2024-03-01T03:04:05.123456Z',
        at_local: '2024-03-01T10:04:05.500000',
        on_day: '2024-02-29',
        label: 'héllo',
        raw: '0aff',
      },
      {
        id: 2,
        small: null,
        big: null,
        amount: null,
        ratio: 'NaN',
        share: '-Infinity',
        flag: false,
        at_tz: '2000-01-01T05:29:59.000000Z',
        at_local: '2024-03-01T00:00:00.000000',
        on_day: '0044-03-15',
        label: null,
        raw: null,
      },
    ]);
    // Sessions are UTC, as Redshift's are.
    assert.deepEqual(await warehouse.query("SELECT current_setting('TimeZone') AS tz, '2024-06-01 12:00'::timestamptz::date AS d", { key: 'test:tz' }), [{ tz: 'UTC', d: '2024-06-01' }]);
  });

  it('converts timestamp text with any offset, and keeps what it does not recognise', () => {
    assert.equal(timestamptzValue('2024-03-01 10:04:05+05:30'), '2024-03-01T04:34:05.000000Z');
    assert.equal(timestamptzValue('1900-01-01 00:00:00+07:07:12'), '1899-12-31T16:52:48.000000Z');
    assert.equal(timestamptzValue('0050-06-01 00:00:00.1-03'), '0050-06-01T03:00:00.100000Z');
    assert.equal(timestamptzValue('infinity'), 'infinity');
    assert.equal(timestampValue('2024-03-01 10:04:05.000001'), '2024-03-01T10:04:05.000001');
    assert.equal(timestampValue('0044-03-15 12:00:00 BC'), '0044-03-15 12:00:00 BC');
  });

  it('cancels a running statement when the signal aborts: quickly, as a WarehouseError, rolled back', async () => {
    const controller = new AbortController();
    const beats: { elapsedMs: number; status: string }[] = [];
    const started = Date.now();
    setTimeout(() => controller.abort(), 700);
    const err = await rejectsWith(
      warehouse.transaction(['CREATE TABLE never_committed (id int)', 'SELECT pg_sleep(30)', 'INSERT INTO never_committed VALUES (1)'], {
        key: 'build:slow:batch-1',
        signal: controller.signal,
        heartbeat: (progress) => beats.push(progress),
      }),
      /^cancelled: build:slow:batch-1 while running: SELECT pg_sleep\(30\)$/,
    );
    assert.equal(err.sql, 'SELECT pg_sleep(30)');
    assert.ok(Date.now() - started < 5000, `cancelling took ${Date.now() - started} ms`);
    assert.ok(beats.length >= 3, `${beats.length} heartbeats`);
    assert.equal(beats.at(-1)?.status, 'running statement 2 of 3');
    assert.ok((beats.at(-1)?.elapsedMs ?? 0) >= 300);
    assert.equal(await tableExists('never_committed'), false);
    const sleeping = await warehouse.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(30)'", { key: 'test:activity' });
    assert.deepEqual(sleeping, [{ n: 0 }]);
  });

  it('cancels a query too, and runs nothing when the signal has already aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await rejectsWith(warehouse.query('SELECT pg_sleep(30) AS slept', { key: 'report:slow', signal: controller.signal }), /^cancelled: report:slow while running: SELECT pg_sleep\(30\) AS slept$/);

    await rejectsWith(warehouse.transaction(['CREATE TABLE not_started (id int)'], { key: 'build:late', signal: controller.signal }), /^cancelled: build:late$/);
    assert.equal(await tableExists('not_started'), false);
  });

  it('names the key, the statement and PostgreSQL\'s message when a statement fails', async () => {
    const longSql = `SELEC ${'x, '.repeat(150)}y`;
    const err = await rejectsWith(warehouse.transaction(['CREATE TABLE fine (id int)', longSql], { key: 'build:typo:batch-2' }), /^build:typo:batch-2: statement 2 of 2 failed: syntax error at or near "SELEC" \(SQLSTATE 42601\)\. Statement: SELEC x, x, /);
    assert.ok(err.message.endsWith('…'), 'a long statement is cut to its first 200 characters');
    assert.ok(err.message.length < 400);
    assert.equal(err.sql, longSql);
    assert.equal(await tableExists('fine'), false);

    // A statement_timeout ends a statement with the SQLSTATE of a cancel, but nobody cancelled it.
    await rejectsWith(
      warehouse.transaction(["SET LOCAL statement_timeout = '100ms'", 'SELECT pg_sleep(5)'], { key: 'build:timeout' }),
      /^build:timeout: statement 2 of 2 failed: canceling statement due to statement timeout \(SQLSTATE 57014\)\. Statement: SELECT pg_sleep\(5\)$/,
    );

    await rejectsWith(warehouse.query('SELECT nme FROM kept', { key: 'report:typo' }), /^report:typo: query failed: column "nme" does not exist \(SQLSTATE 42703.*\)\. Statement: SELECT nme FROM kept$/);
  });
});
