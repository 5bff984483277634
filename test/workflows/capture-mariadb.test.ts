// captureSource on MariaDB: the full load and then windows of binlog changes land in the raw zone as
// DMS files, and replaying the files in order reproduces the source tables exactly. Real Temporal,
// MariaDB (row-based binlog), S3 server; a scratch control plane and bucket.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { WorkflowId } from '../../lib/common/temporal';
import type { ControlPlane } from '../../lib/control-plane/store';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import { checkContinuity } from '../../lib/raw-zone/checks';
import { readRawFileInfo } from '../../lib/raw-zone/read';
import { MysqlSource } from '../../lib/sources/mysql';
import { connectClient, explainFailure } from '../../lib/temporal/client';
import { ErrorType } from '../../lib/common/errors';
import { checkAgainstSource, parseTableDefinition } from '../../lib/tables/definition';
import type { TableRecord } from '../../lib/control-plane/store';
import type { CaptureSourceInput, CaptureStatus } from '../../workflows/captureSource';
import type { ReconcileTableResult } from '../../workflows/reconcileTable';
import mysql from 'mysql2/promise';
import { createAdapters, createWorkers, type Adapters } from '../../workers/workers';
import { generateChanges } from '../../scripts/sample/generator';
import { getBytes, listRawKeys, readMysqlTable, replayRawTable } from '../support/replay';
import { createScratchControlPlane, testConfig, uniqueSuffix, type ScratchDatabase } from '../support/stack';

describe('captureSource (MariaDB)', () => {
  const source = `clinic_${uniqueSuffix()}`;
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
  const clinicUrl = testConfig().environment.DANAU_SOURCE_CLINIC_URL!;

  before(async () => {
    installTemporalRuntime(createLogger('error'), 'error');
    ({ db, controlPlane } = await createScratchControlPlane());
    config = testConfig({ DANAU_CONTROL_DATABASE_URL: db.url, DANAU_RAW_BUCKET: bucket });
    adapters = createAdapters(config);
    await adapters.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await controlPlane.upsertSource({ name: source, engine: 'mysql', database: 'clinic', connectionEnv: 'DANAU_SOURCE_CLINIC_URL', description: 'test' }, 'test');
    const catalog = new MysqlSource(clinicUrl);
    for (const [table, partitionField] of [['patients', 'registered_at'], ['appointments', 'appointment_at']] as const) {
      const def = parseTableDefinition({ source, schema: 'clinic', table, precombineField: 'updated_at', partitionField });
      const check = checkAgainstSource(def, 'mysql', (await catalog.describeTable('clinic', table))!);
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
      const actual = await readMysqlTable(clinicUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
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
    const keys = await listRawKeys(adapters.s3, bucket, 'clinic', 'patients');
    assert.ok(keys.length >= 1 && keys.every((k) => /\/LOAD[0-9A-F]{8}\.parquet$/.test(k)), keys.join(', '));
    await assertRawZoneMatchesSource();
  });

  it('captures inserts, updates and deletes, including multi-table transactions, in DMS files', async () => {
    const made = await generateChanges(config.environment, { changes: 80, seed: 11 });
    const clinicChanges = Object.entries(made).filter(([t]) => t === 'clinic.patients' || t === 'clinic.appointments').reduce((n, [, c]) => n + c.inserted + c.updated + c.deleted, 0);
    assert.ok(clinicChanges > 0, 'the generator changed nothing in clinic');
    const status = await capture();
    // An UPDATE that sets the values a row already has counts as affected but writes no binlog row,
    // so the capture may see fewer updates than the generator made; the replay below is the proof.
    const structural = Object.entries(made).filter(([t]) => t === 'clinic.patients' || t === 'clinic.appointments').reduce((n, [, c]) => n + c.inserted + c.deleted, 0);
    assert.ok(status.last!.changes >= structural, `captured ${status.last!.changes} changes, expected at least the ${structural} inserts and deletes`);
    const cdc = status.last!.files.map((f) => f.key);
    assert.ok(cdc.every((k) => /^clinic\/(patients|appointments)\/\d{4}\/\d\d\/\d\d\/\d{8}-\d{12}-[0-9A-F]+\.parquet$/.test(k)), cdc.join(', '));
    await assertRawZoneMatchesSource();
  });

  it('carries a changed primary key as the old key deleted and the new one inserted', async () => {
    const conn = await mysql.createConnection({ uri: clinicUrl });
    await conn.query('UPDATE appointments SET appointment_id = (SELECT m FROM (SELECT MAX(appointment_id) + 1 AS m FROM appointments) x) WHERE appointment_id = (SELECT n FROM (SELECT MIN(appointment_id) AS n FROM appointments) y)');
    await conn.end();
    const status = await capture();
    assert.ok(status.last!.changes >= 2);
    await assertRawZoneMatchesSource();
  });

  it('writes nothing when nothing changed, and never rewrites a file', async () => {
    const before = (await listRawKeys(adapters.s3, bucket, 'clinic', 'appointments')).length;
    const status = await capture();
    assert.equal(status.last!.changes, 0);
    assert.equal((await listRawKeys(adapters.s3, bucket, 'clinic', 'appointments')).length, before);
  });

  it('reconciles a table on demand: counts and key checksum against the raw zone, naming keys it lacks', async () => {
    const reconcile = async () =>
      (await client.workflow.execute('reconcileTable', {
        taskQueue: testConfig().temporal.taskQueues.control,
        workflowId: `${WorkflowId.reconcileTable(`${source}.clinic.patients`)}/${++run}`,
        args: [{ table: `${source}.clinic.patients` }],
      })) as ReconcileTableResult;
    const before = await reconcile();
    assert.equal(before.match, true, JSON.stringify(before));
    assert.equal(before.source.checksum, before.raw.checksum);

    const conn = await mysql.createConnection({ uri: clinicUrl });
    const [[row]] = await conn.query<mysql.RowDataPacket[]>('SELECT MAX(patient_id) + 1 AS id FROM patients');
    const id = String(row!.id);
    await conn.query("INSERT INTO patients (patient_id, medical_record_no, full_name, gender, birth_date, city, registered_at) VALUES (?, ?, 'Uji Rekonsiliasi', 'F', '1990-01-01', 'Bogor', NOW(3))", [id, `MRN-R${id}`]);
    await conn.end();
    const lagging = await reconcile();
    assert.equal(lagging.match, false);
    assert.deepEqual(lagging.missingInRaw, [id]);
    assert.equal(lagging.source.rows, lagging.raw.rows + 1);

    await capture();
    assert.equal((await reconcile()).match, true);
  });

  it('stops with a clear error when the binlog at its position was purged', async () => {
    const saved = (await controlPlane.getCheckpoint('capture', source))!;
    await controlPlane.saveCheckpoints([{ ...saved, position: 'mariadb-bin.999999:4' }]);
    await assert.rejects(capture(), (err: unknown) => {
      const failure = explainFailure(err);
      assert.equal(failure.type, ErrorType.SourcePositionLost);
      assert.match(failure.message, new RegExp(`source ${source}: the saved position mariadb-bin.999999:4 can no longer be read .*re-snapshot`));
      return true;
    });
    await controlPlane.saveCheckpoints([saved]);
  });
});
