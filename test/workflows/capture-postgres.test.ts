// captureSource on PostgreSQL: the full load and then windows of changes land in the raw zone as
// DMS files, and replaying the files in order reproduces the source tables exactly. Real Temporal,
// PostgreSQL (logical replication), S3 server; a scratch control plane, slot, publication and bucket.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pg from 'pg';
import { WorkflowId } from '../../lib/common/temporal';
import type { ControlPlane } from '../../lib/control-plane/store';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import { checkContinuity } from '../../lib/raw-zone/checks';
import { readRawFileInfo } from '../../lib/raw-zone/read';
import { PostgresSource } from '../../lib/sources/postgres';
import { connectClient, explainFailure } from '../../lib/temporal/client';
import { ErrorType } from '../../lib/common/errors';
import { checkAgainstSource, parseTableDefinition } from '../../lib/tables/definition';
import type { TableRecord } from '../../lib/control-plane/store';
import type { CaptureSourceInput, CaptureStatus } from '../../workflows/captureSource';
import type { CheckIngestionResult } from '../../workflows/checkIngestion';
import { createAdapters, createWorkers, type Adapters } from '../../workers/workers';
import { generateChanges } from '../../scripts/sample/generator';
import { getBytes, listRawKeys, readPostgresTable, replayRawTable } from '../support/replay';
import { createScratchControlPlane, testConfig, uniqueSuffix, type ScratchDatabase } from '../support/stack';

describe('captureSource (PostgreSQL)', () => {
  const source = `labs_${uniqueSuffix()}`;
  const bucket = `danau-test-raw-${randomBytes(4).toString('hex')}`;
  let db: ScratchDatabase;
  let controlPlane: ControlPlane;
  let connection: NativeConnection;
  let adapters: Adapters;
  let workers: Worker[];
  let running: Promise<void[]>;
  let client: Client;
  let config: ReturnType<typeof testConfig>;
  const tables: TableRecord[] = [];
  const labsUrl = testConfig().environment.DANAU_SOURCE_LABS_URL!;

  before(async () => {
    installTemporalRuntime(createLogger('error'), 'error');
    ({ db, controlPlane } = await createScratchControlPlane());
    config = testConfig({ DANAU_CONTROL_DATABASE_URL: db.url, DANAU_RAW_BUCKET: bucket });
    adapters = createAdapters(config);
    await adapters.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await controlPlane.upsertSource({ name: source, engine: 'postgres', database: 'labs', connectionEnv: 'DANAU_SOURCE_LABS_URL', description: 'test' }, 'test');
    const catalog = new PostgresSource(labsUrl);
    for (const [table, partitionField] of [['lab_orders', 'ordered_at'], ['lab_results', 'resulted_at']] as const) {
      const def = parseTableDefinition({ source, schema: 'public', table, precombineField: 'updated_at', partitionField });
      const check = checkAgainstSource(def, 'postgres', (await catalog.describeTable('public', table))!);
      tables.push((await controlPlane.recordTable(def, check.primaryKey, check.columns, 'test')).table);
    }
    await catalog.close();
    connection = await NativeConnection.connect({ address: config.temporal.address });
    workers = await createWorkers({ config, connection, adapters, queues: ['control', 'io'] });
    running = Promise.all(workers.map((w) => w.run()));
    client = await connectClient(config);
  });

  after(async () => {
    workers?.forEach((w) => w.shutdown());
    await running;
    const admin = new pg.Client({ connectionString: labsUrl });
    await admin.connect();
    await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [`danau_${source}`]);
    await admin.query(`DROP PUBLICATION IF EXISTS danau_${source}`);
    await admin.end();
    const listed = await adapters?.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const objects = (listed?.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (objects.length) await adapters.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
    await adapters?.close();
    await connection?.close();
    await client?.connection.close();
    await controlPlane?.close();
    await db?.drop();
  });

  let run = 0;
  const capture = async (input: Partial<CaptureSourceInput> = {}) =>
    (await client.workflow.execute('captureSource', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: `${WorkflowId.captureSource(source)}/${++run}`,
      // A window that keeps failing fails the test instead of retrying forever.
      workflowExecutionTimeout: '2 minutes',
      args: [{ source, maxWindows: 1, windowSeconds: 1, ...input }],
    })) as CaptureStatus;

  async function assertRawZoneMatchesSource() {
    for (const t of tables) {
      const replayed = await replayRawTable(adapters.s3, bucket, t.schemaName, t.tableName, t.columns, t.primaryKey);
      const actual = await readPostgresTable(labsUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
      assert.equal(replayed.size, actual.size, `${t.tableName}: row count`);
      for (const [key, row] of actual) assert.deepEqual(replayed.get(key), row, `${t.tableName} row ${key}`);
      // The files chain: no gap, no overlap.
      const infos = [];
      for (const key of await listRawKeys(adapters.s3, bucket, t.schemaName, t.tableName)) infos.push(await readRawFileInfo(key, await getBytes(adapters.s3, bucket, key)));
      const continuity = checkContinuity(t.tableName, infos);
      assert.ok(continuity.ok, continuity.message);
    }
  }

  it('writes each table full load as LOAD files that reproduce the source', async () => {
    const status = await capture();
    const loaded = Object.fromEntries(status.last!.loaded.map((l) => [l.table, l.rows]));
    assert.equal(Object.keys(loaded).length, 2);
    const keys = await listRawKeys(adapters.s3, bucket, 'public', 'lab_orders');
    assert.ok(keys.length >= 1 && keys.every((k) => /\/LOAD[0-9A-F]{8}\.parquet$/.test(k)), keys.join(', '));
    await assertRawZoneMatchesSource();
  });

  it('captures inserts, updates and deletes, including multi-table transactions, in DMS files', async () => {
    const made = await generateChanges(config.environment, { changes: 80, seed: 11 });
    const labsChanges = Object.entries(made).filter(([t]) => t.startsWith('labs.')).reduce((n, [, c]) => n + c.inserted + c.updated + c.deleted, 0);
    assert.ok(labsChanges > 0, 'the generator changed nothing in labs');
    const status = await capture();
    assert.ok(status.last!.changes >= labsChanges, `captured ${status.last!.changes} changes, expected at least ${labsChanges}`);
    const cdc = status.last!.files.map((f) => f.key);
    assert.ok(cdc.every((k) => /^public\/lab_(orders|results)\/\d{4}\/\d\d\/\d\d\/\d{8}-\d{12}-[0-9A-F]+\.parquet$/.test(k)), cdc.join(', '));
    await assertRawZoneMatchesSource();
  });

  it('carries a changed primary key and a large transaction', async () => {
    const admin = new pg.Client({ connectionString: labsUrl });
    await admin.connect();
    try {
      await admin.query('UPDATE lab_results SET result_id = (SELECT max(result_id) + 1 FROM lab_results) WHERE result_id = (SELECT min(result_id) FROM lab_results)');
      await admin.query('BEGIN');
      await admin.query(
        `INSERT INTO lab_orders (order_id, order_number, patient_id, panel_code, panel_name, priority, status, ordered_at, price)
         SELECT 9000000 + g, 'BIG-' || g, 1, 'CBC', 'Darah Lengkap', 'routine', 'ordered', now(), 1000.00 + g FROM generate_series(1, 3000) g`,
      );
      await admin.query('COMMIT');
      const status = await capture();
      assert.ok(status.last!.changes >= 3002, `captured ${status.last!.changes}`);
      await assertRawZoneMatchesSource();
      await admin.query('DELETE FROM lab_orders WHERE order_id > 9000000');
      await capture();
      await assertRawZoneMatchesSource();
    } finally {
      await admin.query('DELETE FROM lab_orders WHERE order_id > 9000000').catch(() => undefined);
      await admin.end();
    }
  });

  it('runs the ingestion checks on what it wrote, and records them', async () => {
    const result = (await client.workflow.execute('checkIngestion', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: `${WorkflowId.checkIngestion(`${source}.public.lab_orders`)}/${++run}`,
      args: [{ table: `${source}.public.lab_orders` }],
    })) as CheckIngestionResult;
    assert.ok(result.ok, JSON.stringify(result.checks));
    assert.ok(result.filesChecked >= 2);
    const { rows } = await controlPlane.pool.query<{ check_name: string; ok: boolean }>(
      'SELECT check_name, ok FROM ingestion_checks ORDER BY check_id',
    );
    assert.deepEqual(rows.map((r) => `${r.check_name}:${r.ok}`), ['freshness:true', 'continuity:true', 'schema_drift:true']);
  });

  it('onboards a table later with its own consistent full load, and pauses it when its source schema drifts', async () => {
    const admin = new pg.Client({ connectionString: labsUrl });
    await admin.connect();
    const name = `zz_drift_${uniqueSuffix()}`;
    try {
      await admin.query(`CREATE TABLE ${name} (id int PRIMARY KEY, amount numeric(8,2), updated_at timestamptz NOT NULL DEFAULT now())`);
      await admin.query(`INSERT INTO ${name} (id, amount) VALUES (1, 10.50), (2, 20.00)`);
      const catalog = new PostgresSource(labsUrl);
      const def = parseTableDefinition({ source, schema: 'public', table: name, precombineField: 'updated_at', partitionField: 'updated_at' });
      const check = checkAgainstSource(def, 'postgres', (await catalog.describeTable('public', name))!);
      await catalog.close();
      const { table } = await controlPlane.recordTable(def, check.primaryKey, check.columns, 'test');

      const first = await capture();
      assert.deepEqual(first.last!.loaded, [{ table: `${source}.public.${name}`, rows: 2, files: 1 }]);
      await admin.query(`UPDATE ${name} SET amount = 11.00 WHERE id = 1`);
      await admin.query(`ALTER TABLE ${name} ADD COLUMN note text`);
      await admin.query(`INSERT INTO ${name} (id, amount, note) VALUES (3, 30.00, 'baru')`);
      await capture();

      const replayed = await replayRawTable(adapters.s3, bucket, 'public', name, table.columns, table.primaryKey);
      assert.deepEqual([...replayed.values()].map((r) => `${r.id}:${r.amount}`).sort(), ['1:11.00', '2:20.00', '3:30.00']);

      const result = (await client.workflow.execute('checkIngestion', {
        taskQueue: testConfig().temporal.taskQueues.control,
        workflowId: `${WorkflowId.checkIngestion(`${source}.public.${name}`)}/${++run}`,
        args: [{ table: `${source}.public.${name}` }],
      })) as CheckIngestionResult;
      const drift = result.checks.find((c) => c.name === 'schema_drift')!;
      assert.equal(drift.ok, false);
      assert.match(drift.message, new RegExp(`table ${source}\\.public\\.${name}: schema changed at the source: column note added \\(string\\)`));
      assert.equal(result.paused, drift.message);
      const paused = await controlPlane.getTable(source, 'public', name);
      assert.equal(paused?.pausedReason, drift.message);
      // A table about to be dropped at the source is disabled first, or capture stops with a clear error.
      await controlPlane.recordTable({ ...def, enabled: false }, check.primaryKey, check.columns, 'test');
    } finally {
      await admin.query(`DROP TABLE IF EXISTS ${name}`);
      await admin.end();
    }
  });

  it('answers status and obeys pause and resume while it runs', async () => {
    const handle = await client.workflow.start('captureSource', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: `${WorkflowId.captureSource(source)}/${++run}`,
      args: [{ source, windowSeconds: 1 }],
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
    const before = (await listRawKeys(adapters.s3, bucket, 'public', 'lab_orders')).length;
    const status = await capture();
    assert.equal(status.last!.changes, 0);
    assert.equal((await listRawKeys(adapters.s3, bucket, 'public', 'lab_orders')).length, before);
  });

  it('stops with a clear error when its replication slot is lost, keeping what was captured', async () => {
    const before = (await listRawKeys(adapters.s3, bucket, 'public', 'lab_orders')).length;
    const admin = new pg.Client({ connectionString: labsUrl });
    await admin.connect();
    await admin.query('SELECT pg_drop_replication_slot($1)', [`danau_${source}`]);
    await admin.end();
    await assert.rejects(capture(), (err: unknown) => {
      const failure = explainFailure(err);
      assert.equal(failure.type, ErrorType.SourcePositionLost);
      assert.match(failure.message, new RegExp(`source ${source}: the saved position .* can no longer be read .*re-snapshot`));
      return true;
    });
    assert.equal((await listRawKeys(adapters.s3, bucket, 'public', 'lab_orders')).length, before);
  });
});
