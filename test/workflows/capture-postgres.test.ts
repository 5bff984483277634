// captureSource on PostgreSQL: the full load and then windows of changes land in the raw zone as
// DMS files, and replaying the files in order reproduces the source tables exactly. Real Temporal,
// PostgreSQL (logical replication), S3 server; a scratch control plane, slot, publication and bucket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ErrorType } from '../../lib/common/errors';
import { WorkflowId } from '../../lib/common/temporal';
import { explainFailure } from '../../lib/temporal/client';
import { generateChanges } from '../../scripts/sample/generator';
import type { CaptureStatus } from '../../workflows/captureSource';
import type { CheckIngestionResult } from '../../workflows/checkIngestion';
import { replayRawTable } from '../support/replay';
import { uniqueSuffix } from '../support/stack';
import { CaptureHarness } from '../support/capture-harness';
import { listRawKeys } from '../support/replay';

describe('captureSource (PostgreSQL)', () => {
  const h = new CaptureHarness({ engine: 'postgres', tables: [['lab_orders', 'ordered_at'], ['lab_results', 'resulted_at']] });
  before(() => h.start());
  after(() => h.stop());

  it('writes each table full load as LOAD files that reproduce the source', async () => {
    const status = await h.capture();
    const loaded = Object.fromEntries(status.last!.loaded.map((l) => [l.table, l.rows]));
    assert.equal(Object.keys(loaded).length, 2);
    const keys = await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'public', table: 'lab_orders' });
    assert.ok(keys.length >= 1 && keys.every((k) => /\/LOAD[0-9A-F]{8}\.parquet$/.test(k)), keys.join(', '));
    await h.assertRawZoneMatchesSource();
  });

  it('captures inserts, updates and deletes, including multi-table transactions, in DMS files', async () => {
    const made = await generateChanges(h.config.environment, { changes: 80, seed: 11 });
    const labsChanges = Object.entries(made).filter(([t]) => t.startsWith('labs.')).reduce((n, [, c]) => n + c.inserted + c.updated + c.deleted, 0);
    assert.ok(labsChanges > 0, 'the generator changed nothing in labs');
    const status = await h.capture();
    assert.ok(status.last!.changes >= labsChanges, `captured ${status.last!.changes} changes, expected at least ${labsChanges}`);
    const cdc = status.last!.files.map((f) => f.key);
    assert.ok(cdc.every((k) => /^public\/lab_(orders|results)\/\d{4}\/\d\d\/\d\d\/\d{8}-\d{12}-[0-9A-F]+\.parquet$/.test(k)), cdc.join(', '));
    await h.assertRawZoneMatchesSource();
  });

  it('carries a changed primary key and a large transaction', async () => {
    const admin = new pg.Client({ connectionString: h.sourceUrl });
    await admin.connect();
    try {
      await admin.query('UPDATE lab_results SET result_id = (SELECT max(result_id) + 1 FROM lab_results) WHERE result_id = (SELECT min(result_id) FROM lab_results)');
      await admin.query('BEGIN');
      await admin.query(
        `INSERT INTO lab_orders (order_id, order_number, patient_id, panel_code, panel_name, priority, status, ordered_at, price)
         SELECT 9000000 + g, 'BIG-' || g, 1, 'CBC', 'Darah Lengkap', 'routine', 'ordered', now(), 1000.00 + g FROM generate_series(1, 3000) g`,
      );
      await admin.query('COMMIT');
      const status = await h.capture();
      assert.ok(status.last!.changes >= 3002, `captured ${status.last!.changes}`);
      await h.assertRawZoneMatchesSource();
      await admin.query('DELETE FROM lab_orders WHERE order_id > 9000000');
      await h.capture();
      await h.assertRawZoneMatchesSource();
    } finally {
      await admin.query('DELETE FROM lab_orders WHERE order_id > 9000000').catch(() => undefined);
      await admin.end();
    }
  });

  it('runs the ingestion checks on what it wrote, and records them', async () => {
    const result = (await h.client.workflow.execute('checkIngestion', {
      taskQueue: h.config.temporal.taskQueues.control,
      workflowId: h.nextId(WorkflowId.checkIngestion(`${h.source}.public.lab_orders`)),
      args: [{ table: `${h.source}.public.lab_orders` }],
    })) as CheckIngestionResult;
    assert.ok(result.ok, JSON.stringify(result.checks));
    assert.ok(result.filesChecked >= 2);
    const { rows } = await h.controlPlane.pool.query<{ check_name: string; ok: boolean }>(
      'SELECT check_name, ok FROM ingestion_checks ORDER BY check_id',
    );
    assert.deepEqual(rows.map((r) => `${r.check_name}:${r.ok}`), ['freshness:true', 'continuity:true', 'schema_drift:true']);
  });

  it('onboards a table later with its own consistent full load, and pauses it when a column is added or retyped at the source', async () => {
    const admin = new pg.Client({ connectionString: h.sourceUrl });
    await admin.connect();
    const name = `zz_drift_${uniqueSuffix()}`;
    try {
      await admin.query(`CREATE TABLE ${name} (id int PRIMARY KEY, amount numeric(8,2), updated_at timestamptz NOT NULL DEFAULT now())`);
      await admin.query(`INSERT INTO ${name} (id, amount) VALUES (1, 10.50), (2, 20.00)`);
      const table = await h.onboard(name, 'updated_at');

      const first = await h.capture();
      assert.deepEqual(first.last!.loaded, [{ table: `${h.source}.public.${name}`, rows: 2, files: 1 }]);
      await admin.query(`UPDATE ${name} SET amount = 11.00 WHERE id = 1`);
      await admin.query(`ALTER TABLE ${name} ADD COLUMN note text`);
      await admin.query(`ALTER TABLE ${name} ALTER COLUMN amount TYPE numeric(12,3)`);
      await admin.query(`INSERT INTO ${name} (id, amount, note) VALUES (3, 30.00, 'baru')`);
      await h.capture();

      // The replay renders values at the onboarded types: the retyped value is kept, not lost.
      const replayed = await replayRawTable(h.adapters.s3, h.bucket, { source: h.source, schema: 'public', table: name }, table.columns, table.primaryKey);
      assert.deepEqual([...replayed.values()].map((r) => `${r.id}:${r.amount}`).sort(), ['1:11.00', '2:20.00', '3:30.00']);

      const result = (await h.client.workflow.execute('checkIngestion', {
        taskQueue: h.config.temporal.taskQueues.control,
        workflowId: h.nextId(WorkflowId.checkIngestion(`${h.source}.public.${name}`)),
        args: [{ table: `${h.source}.public.${name}` }],
      })) as CheckIngestionResult;
      const drift = result.checks.find((c) => c.name === 'schema_drift')!;
      assert.equal(drift.ok, false);
      assert.match(drift.message, new RegExp(`table ${h.source}\\.public\\.${name}: schema changed at the source: column note added \\(string\\), column amount changed from decimal\\(8,2\\) to decimal\\(12,3\\)`));
      assert.equal(result.paused, drift.message);
      const paused = await h.controlPlane.getTable(h.source, 'public', name);
      assert.equal(paused?.pausedReason, drift.message);
      // A table about to be dropped at the source is disabled first, or capture stops with a clear error.
      await h.onboard(name, 'updated_at', false);
    } finally {
      await admin.query(`DROP TABLE IF EXISTS ${name}`);
      await admin.end();
    }
  });

  it('answers status and obeys pause and resume while it runs', async () => {
    const handle = await h.client.workflow.start('captureSource', {
      taskQueue: h.config.temporal.taskQueues.control,
      workflowId: h.nextId(WorkflowId.captureSource(h.source)),
      args: [{ source: h.source, windowSeconds: 1 }],
    });
    const status = () => handle.query<CaptureStatus>('status');
    const waitFor = async (what: string, ok: (s: CaptureStatus) => boolean) => {
      for (let i = 0; i < 60; i++) {
        const s = await status();
        if (ok(s)) return s;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.fail(`status never showed ${what}: ${JSON.stringify(await status())}`);
    };
    await waitFor('a window', (s) => s.totals.windows >= 1);
    await handle.signal('pause');
    const paused = await waitFor('paused', (s) => s.paused);
    await new Promise((r) => setTimeout(r, 2500));
    const still = await status();
    assert.ok(still.totals.windows <= paused.totals.windows + 1, `windows went on while paused: ${paused.totals.windows} -> ${still.totals.windows}`);
    await handle.signal('resume');
    await waitFor('windows after resume', (s) => !s.paused && s.totals.windows >= still.totals.windows + 2);
    await handle.cancel();
  });

  it('writes nothing when nothing changed, and never rewrites a file', async () => {
    const before = (await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'public', table: 'lab_orders' })).length;
    const status = await h.capture();
    assert.equal(status.last!.changes, 0);
    assert.equal((await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'public', table: 'lab_orders' })).length, before);
  });

  it('stops with a clear error when its replication slot is lost, keeping what was captured', async () => {
    const before = (await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'public', table: 'lab_orders' })).length;
    const admin = new pg.Client({ connectionString: h.sourceUrl });
    await admin.connect();
    await admin.query('SELECT pg_drop_replication_slot($1)', [`danau_${h.source}`]);
    await admin.end();
    await assert.rejects(h.capture(), (err: unknown) => {
      const failure = explainFailure(err);
      assert.equal(failure.type, ErrorType.SourcePositionLost);
      assert.match(failure.message, new RegExp(`source ${h.source}: the saved position .* can no longer be read .*re-snapshot`));
      return true;
    });
    assert.equal((await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'public', table: 'lab_orders' })).length, before);
  });
});
