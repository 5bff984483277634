// Capture failures a retry cannot fix (issue 12, item 3): a table with a value that does not fit is
// suspended alone, with one failed event naming table and column (never the value), while the
// source's other tables go on; resumed, it gets back what it missed. A source that cannot connect
// (a missing connection variable, a refused login) fails its capture at once, naming what to fix.
// Real Temporal, PostgreSQL (logical replication) and S3; a scratch control plane, slot and bucket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ErrorType } from '../../lib/common/errors';
import { WorkflowId } from '../../lib/common/temporal';
import { FailedEventStore } from '../../lib/failed-events/store';
import { encodeDmsParquet } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey } from '../../lib/raw-zone/keys';
import { parseTableDefinition } from '../../lib/tables/definition';
import { explainFailure } from '../../lib/temporal/client';
import type { CaptureStatus } from '../../workflows/captureSource';
import { CaptureHarness } from '../support/capture-harness';
import { uniqueSuffix } from '../support/stack';

// The worker reads connection variables from its environment: one that logs in with a wrong password.
const BAD_LOGIN_ENV = `DANAU_TEST_BAD_LOGIN_${uniqueSuffix().toUpperCase()}`;
const MISSING_ENV = `DANAU_TEST_UNSET_${uniqueSuffix().toUpperCase()}`;
{
  const url = new URL(process.env.DANAU_SOURCE_LABS_URL ?? 'postgres://labs:labs@127.0.0.1:15432/labs');
  url.password = 'not-the-password';
  process.env[BAD_LOGIN_ENV] = url.toString();
}

describe('captureSource: failures a retry cannot fix', () => {
  const h = new CaptureHarness({ engine: 'postgres', tables: [['lab_orders', 'ordered_at']] });
  const name = `zz_fail_${uniqueSuffix()}`;
  const domain = `zz_code_${uniqueSuffix()}`;
  const key = () => `${h.source}.public.${name}`;
  const BAD = 'K-7-SECRET';
  let admin: pg.Client;
  let failed: FailedEventStore;
  before(async () => {
    await h.start();
    failed = new FailedEventStore(h.controlPlane.pool);
    admin = new pg.Client({ connectionString: h.sourceUrl });
    await admin.connect();
    await admin.query(`CREATE TABLE ${name} (id int PRIMARY KEY, code int, updated_at timestamptz NOT NULL DEFAULT now())`);
    await admin.query(`INSERT INTO ${name} (id, code) VALUES (1, 10), (2, 20)`);
    await h.onboard(name, 'updated_at');
  });
  after(async () => {
    await admin?.query(`DROP TABLE IF EXISTS ${name}`);
    await admin?.query(`DROP DOMAIN IF EXISTS ${domain}`);
    await admin?.end();
    await h.stop();
  });

  it('suspends only the table whose value does not fit, files one failed event naming table and column, and the other table goes on', async () => {
    const first = await h.capture();
    assert.deepEqual(first.suspended, []);
    assert.ok(first.last!.loaded.some((l) => l.table === key() && l.rows === 2));

    // Retyped at the source to a type capture does not know (a domain): it keeps the onboarded int,
    // and a value that is not one cannot be written.
    await admin.query(`CREATE DOMAIN ${domain} AS text`);
    await admin.query(`ALTER TABLE ${name} ALTER COLUMN code TYPE ${domain} USING code::text`);
    await admin.query(`INSERT INTO ${name} (id, code) VALUES (3, '${BAD}')`);
    await admin.query('UPDATE lab_orders SET updated_at = now() WHERE order_id = (SELECT min(order_id) FROM lab_orders)');

    const started = Date.now();
    const status = await h.capture();
    assert.ok(Date.now() - started < 60_000, 'the window should not retry');
    assert.deepEqual(status.suspended.map((s) => [s.table, s.errorType]), [[key(), ErrorType.BadSourceData]]);
    assert.match(status.suspended[0]!.reason, new RegExp(`table ${key()}: column code: the value of change [0-9A-F]+ cannot be written: not an integer`));
    assert.ok(status.last!.files.some((f) => f.table === `${h.source}.public.lab_orders`), JSON.stringify(status.last!.files));
    assert.ok(!status.last!.files.some((f) => f.table === key()), 'the suspended table wrote a file');
    await h.assertRawZoneMatchesSource([h.tables[0]!]);

    const table = await h.controlPlane.getTable(h.source, 'public', name);
    assert.match(table!.pausedReason ?? '', /^capture suspended: .*column code/);
    const events = (await failed.list({ table: key() })).filter((e) => e.pipeline === 'capture');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.errorType, ErrorType.BadSourceData);
    assert.match(events[0]!.reason, /column code/);
    for (const text of [table!.pausedReason!, events[0]!.reason, JSON.stringify(events[0]!.dataRef), JSON.stringify(status)]) {
      assert.ok(!text.includes(BAD), `a value is shown: ${text}`);
    }

    // The next windows skip it: no second event, the others still captured.
    await admin.query(`INSERT INTO ${name} (id, code) VALUES (4, '40')`);
    await admin.query('UPDATE lab_orders SET updated_at = now() WHERE order_id = (SELECT max(order_id) FROM lab_orders)');
    const again = await h.capture();
    assert.deepEqual(again.suspended.map((s) => s.table), [key()]);
    assert.ok(again.last!.files.some((f) => f.table === `${h.source}.public.lab_orders`));
    assert.equal((await failed.list({ table: key() })).filter((e) => e.pipeline === 'capture').length, 1);
    await h.assertRawZoneMatchesSource([h.tables[0]!]);
  });

  it('resumed after the fix, reloads the table so nothing it missed is lost, and resolves its event', async () => {
    await admin.query(`UPDATE ${name} SET code = '7' WHERE id = 3`);
    await admin.query(`ALTER TABLE ${name} ALTER COLUMN code TYPE int USING code::int`);
    assert.equal(await h.controlPlane.resumeTableCapture(key(), 'test'), 'reload');
    assert.equal(await h.controlPlane.resumeTableCapture(key(), 'test'), null);
    assert.equal((await h.controlPlane.getTable(h.source, 'public', name))!.pausedReason, null);
    // What a reload that died half-way left behind (after the table's last recorded change) is cleared first.
    const table0 = (await h.controlPlane.getTable(h.source, 'public', name))!;
    const position = (await h.controlPlane.getCheckpoint('capture-table', key()))!.position;
    const leftoverSeq = `${position}FF`;
    const leftover = { op: 'I' as const, commitTimestamp: '2026-01-01 00:00:00.000000', changeSeq: leftoverSeq, values: { id: '99', code: '99', updated_at: '2026-01-01 00:00:00' } };
    await h.adapters.s3.send(new PutObjectCommand({
      Bucket: h.bucket,
      Key: cdcObjectKey({ source: h.source, schema: 'public', table: name }, '2099-01-01 00:00:00', leftoverSeq),
      Body: await encodeDmsParquet({ table: key(), columns: table0.columns, changes: [leftover], previousChangeSeq: position }),
    }));

    const status = await h.capture();
    assert.deepEqual(status.suspended, []);
    assert.deepEqual(status.last!.loaded, [{ table: key(), rows: 4, files: 1 }]);
    await admin.query(`UPDATE ${name} SET code = 8 WHERE id = 4`);
    await h.capture();
    // Replaying every file in order (the first load, the reload, then CDC) gives the source; the files chain.
    const table = (await h.controlPlane.getTable(h.source, 'public', name))!;
    await h.assertRawZoneMatchesSource([h.tables[0]!, table]);
    const events = (await failed.list({ table: key() })).filter((e) => e.pipeline === 'capture');
    assert.deepEqual(events.map((e) => e.status), ['resolved']);
  });

  for (const [what, env, expected] of [
    ['a missing connection variable', MISSING_ENV, new RegExp(`environment variable ${MISSING_ENV} is not set`)],
    ['a refused login', BAD_LOGIN_ENV, new RegExp(`refused the connection \\(28P01: .*\\); fix the user, password or database in ${BAD_LOGIN_ENV}`)],
  ] as const) {
    it(`fails a source's capture at once, and files it once, on ${what}`, async () => {
      const source = `${h.source}_${env === MISSING_ENV ? 'unset' : 'login'}`;
      await h.controlPlane.upsertSource({ name: source, engine: 'postgres', database: 'labs', connectionSecret: env, description: 'test' }, 'test');
      const orders = h.tables[0]!;
      const def = parseTableDefinition({ source, schema: 'public', table: 'lab_orders', precombineField: 'updated_at', partitionField: 'ordered_at' });
      await h.controlPlane.recordTable(def, orders.primaryKey, orders.columns, 'test');
      const run = () =>
        h.client.workflow.execute('captureSource', {
          taskQueue: h.config.temporal.taskQueues.control,
          workflowId: h.nextId(WorkflowId.captureSource(source)),
          workflowExecutionTimeout: '45 seconds',
          args: [{ source, maxWindows: 1, windowSeconds: 1 }],
        }) as Promise<CaptureStatus>;
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        await assert.rejects(run(), (err: unknown) => {
          const failure = explainFailure(err);
          assert.equal(failure.type, ErrorType.SourceMisconfigured, failure.message);
          assert.match(failure.message, expected);
          return true;
        });
        assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms: retried?`);
      }
      const events = (await failed.list({ table: source })).filter((e) => e.pipeline === 'capture');
      assert.equal(events.length, 1, JSON.stringify(events));
      assert.equal(events[0]!.errorType, ErrorType.SourceMisconfigured);
      assert.match(events[0]!.reason, expected);
    });
  }
});
