// captureSource on MariaDB: the full load and then windows of binlog changes land in the raw zone as
// DMS files, and replaying the files in order reproduces the source tables exactly. Real Temporal,
// MariaDB (row-based binlog), S3 server; a scratch control plane and bucket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { ErrorType } from '../../lib/common/errors';
import { WorkflowId } from '../../lib/common/temporal';
import { FailedEventStore } from '../../lib/failed-events/store';
import { explainFailure } from '../../lib/temporal/client';
import { generateChanges } from '../../scripts/sample/generator';
import type { CheckIngestionResult } from '../../workflows/checkIngestion';
import type { ReconcileTableResult } from '../../workflows/reconcileTable';
import { CaptureHarness } from '../support/capture-harness';
import { listRawKeys } from '../support/replay';
import { uniqueSuffix } from '../support/stack';

describe('captureSource (MariaDB)', () => {
  const h = new CaptureHarness({ engine: 'mysql', tables: [['patients', 'registered_at'], ['appointments', 'appointment_at']] });
  before(() => h.start());
  after(() => h.stop());

  it('writes each table full load as LOAD files that reproduce the source', async () => {
    const status = await h.capture();
    const loaded = Object.fromEntries(status.last!.loaded.map((l) => [l.table, l.rows]));
    assert.equal(Object.keys(loaded).length, 2);
    const keys = await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'clinic', table: 'patients' });
    assert.ok(keys.length >= 1 && keys.every((k) => /\/LOAD[0-9A-F]{8}\.parquet$/.test(k)), keys.join(', '));
    await h.assertRawZoneMatchesSource();
  });

  it('captures inserts, updates and deletes, including multi-table transactions, in DMS files', async () => {
    const made = await generateChanges(h.config.environment, { changes: 80, seed: 11 });
    const clinicChanges = Object.entries(made).filter(([t]) => t === 'clinic.patients' || t === 'clinic.appointments').reduce((n, [, c]) => n + c.inserted + c.updated + c.deleted, 0);
    assert.ok(clinicChanges > 0, 'the generator changed nothing in clinic');
    const status = await h.capture();
    // An UPDATE that sets the values a row already has counts as affected but writes no binlog row,
    // so the capture may see fewer updates than the generator made; the replay below is the proof.
    const structural = Object.entries(made).filter(([t]) => t === 'clinic.patients' || t === 'clinic.appointments').reduce((n, [, c]) => n + c.inserted + c.deleted, 0);
    assert.ok(status.last!.changes >= structural, `captured ${status.last!.changes} changes, expected at least the ${structural} inserts and deletes`);
    const cdc = status.last!.files.map((f) => f.key);
    assert.ok(cdc.every((k) => k.startsWith(`${h.source}/`) && /^[^/]+\/clinic\/(patients|appointments)\/\d{4}\/\d\d\/\d\d\/\d{8}-\d{12}-[0-9A-F]+\.parquet$/.test(k)), cdc.join(', '));
    await h.assertRawZoneMatchesSource();
  });

  it('carries a changed primary key as the old key deleted and the new one inserted', async () => {
    const conn = await mysql.createConnection({ uri: h.sourceUrl });
    await conn.query('UPDATE appointments SET appointment_id = (SELECT m FROM (SELECT MAX(appointment_id) + 1 AS m FROM appointments) x) WHERE appointment_id = (SELECT n FROM (SELECT MIN(appointment_id) AS n FROM appointments) y)');
    await conn.end();
    const status = await h.capture();
    assert.ok(status.last!.changes >= 2);
    await h.assertRawZoneMatchesSource();
  });

  it('writes nothing when nothing changed, and never rewrites a file', async () => {
    const before = (await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'clinic', table: 'appointments' })).length;
    const status = await h.capture();
    assert.equal(status.last!.changes, 0);
    assert.equal((await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'clinic', table: 'appointments' })).length, before);
  });

  it('reconciles a table on demand: counts and key checksum against the raw zone, naming keys it lacks', async () => {
    const reconcile = async () =>
      (await h.client.workflow.execute('reconcileTable', {
        taskQueue: h.config.temporal.taskQueues.control,
        workflowId: h.nextId(WorkflowId.reconcileTable(`${h.source}.clinic.patients`)),
        args: [{ table: `${h.source}.clinic.patients` }],
      })) as ReconcileTableResult;
    const before = await reconcile();
    assert.equal(before.match, true, JSON.stringify(before));
    assert.equal(before.source.checksum, before.raw.checksum);

    const conn = await mysql.createConnection({ uri: h.sourceUrl });
    const [[row]] = await conn.query<mysql.RowDataPacket[]>('SELECT MAX(patient_id) + 1 AS id FROM patients');
    const id = String(row!.id);
    await conn.query("INSERT INTO patients (patient_id, medical_record_no, full_name, gender, birth_date, city, registered_at) VALUES (?, ?, 'Uji Rekonsiliasi', 'F', '1990-01-01', 'Bogor', NOW(3))", [id, `MRN-R${id}`]);
    await conn.end();
    const lagging = await reconcile();
    assert.equal(lagging.match, false);
    assert.deepEqual(lagging.missingInRaw, [id]);
    assert.equal(lagging.source.rows, lagging.raw.rows + 1);

    await h.capture();
    assert.equal((await reconcile()).match, true);
  });

  it('pauses a table whose column is retyped at the source, naming the change', async () => {
    const conn = await mysql.createConnection({ uri: h.sourceUrl });
    const name = `zz_drift_${uniqueSuffix()}`;
    try {
      await conn.query(`CREATE TABLE ${name} (id int PRIMARY KEY, amount decimal(8,2), flag tinyint(1), updated_at date NOT NULL)`);
      await conn.query(`INSERT INTO ${name} VALUES (1, 10.50, 1, '2026-01-01'), (2, 20.00, 0, '2026-01-01')`);
      await h.onboard(name, 'updated_at');
      await h.capture();
      await conn.query(`ALTER TABLE ${name} MODIFY amount decimal(12,3)`);
      await conn.query(`INSERT INTO ${name} VALUES (3, 30.125, 1, '2026-01-02')`);
      await h.capture();

      const result = (await h.client.workflow.execute('checkIngestion', {
        taskQueue: h.config.temporal.taskQueues.control,
        workflowId: h.nextId(WorkflowId.checkIngestion(`${h.source}.clinic.${name}`)),
        args: [{ table: `${h.source}.clinic.${name}` }],
      })) as CheckIngestionResult;
      const drift = result.checks.find((c) => c.name === 'schema_drift')!;
      assert.equal(drift.ok, false);
      // Only the retyped column: the boolean whose display width the binlog does not carry is not drift.
      assert.equal(drift.message, `table ${h.source}.clinic.${name}: schema changed at the source: column amount changed from decimal(8,2) to decimal(12,3); the table is paused until it is re-onboarded`);
      assert.equal((await h.controlPlane.getTable(h.source, 'clinic', name))?.pausedReason, drift.message);
      await h.onboard(name, 'updated_at', false);
    } finally {
      await conn.query(`DROP TABLE IF EXISTS ${name}`);
      await conn.end();
    }
  });

  it('suspends only a table whose tinyint(1) holds a value that is not a boolean, and reloads it when resumed after the fix', async () => {
    const conn = await mysql.createConnection({ uri: h.sourceUrl });
    const name = `zz_flag_${uniqueSuffix()}`;
    const key = `${h.source}.clinic.${name}`;
    try {
      // tinyint(1) is onboarded as boolean (as DMS maps it), yet MariaDB stores any tinyint in it.
      await conn.query(`CREATE TABLE ${name} (id int PRIMARY KEY, flag tinyint(1), updated_at date NOT NULL)`);
      await conn.query(`INSERT INTO ${name} VALUES (1, 1, '2026-01-01'), (2, 0, '2026-01-01')`);
      await h.onboard(name, 'updated_at');
      await h.capture();
      await conn.query(`INSERT INTO ${name} VALUES (3, 42, '2026-01-02')`);
      await conn.query('UPDATE patients SET updated_at = now() ORDER BY patient_id LIMIT 1');
      const status = await h.capture();
      assert.deepEqual(status.suspended.map((s) => s.table), [key]);
      assert.match(status.suspended[0]!.reason, new RegExp(`^table ${key}: column flag: the value of change [0-9A-F]+ cannot be written: not a boolean \\(lake type boolean\\)$`));
      assert.ok(status.last!.files.some((f) => f.table === `${h.source}.clinic.patients`) && !status.last!.files.some((f) => f.table === key), JSON.stringify(status.last!.files));
      const [event, ...more] = (await new FailedEventStore(h.controlPlane.pool).list({ table: key })).filter((e) => e.pipeline === 'capture');
      assert.equal(more.length, 0);
      assert.equal(event?.errorType, ErrorType.BadSourceData);
      assert.ok(!/\b42\b/.test(`${event.reason} ${JSON.stringify(event.dataRef)}`), event.reason);
      assert.match((await h.controlPlane.getTable(h.source, 'clinic', name))!.pausedReason ?? '', /column flag/);
      await h.assertRawZoneMatchesSource(h.tables);

      await conn.query(`UPDATE ${name} SET flag = 1 WHERE id = 3`);
      assert.equal(await h.controlPlane.resumeTableCapture(key, 'test'), 'reload');
      const resumed = await h.capture();
      assert.deepEqual(resumed.suspended, []);
      assert.deepEqual(resumed.last!.loaded, [{ table: key, rows: 3, files: 1 }]);
      await conn.query(`UPDATE ${name} SET flag = 0 WHERE id = 1`);
      await h.capture();
      await h.assertRawZoneMatchesSource([(await h.controlPlane.getTable(h.source, 'clinic', name))!]);
      await h.onboard(name, 'updated_at', false);
    } finally {
      await conn.query(`DROP TABLE IF EXISTS ${name}`);
      await conn.end();
    }
  });

  it('stops with a clear error when the binlog at its position was purged', async () => {
    const saved = (await h.controlPlane.getCheckpoint('capture', h.source))!;
    await h.controlPlane.saveCheckpoints([{ ...saved, position: 'mariadb-bin.999999:4' }]);
    await assert.rejects(h.capture(), (err: unknown) => {
      const failure = explainFailure(err);
      assert.equal(failure.type, ErrorType.SourcePositionLost);
      assert.match(failure.message, new RegExp(`source ${h.source}: the saved position mariadb-bin.999999:4 can no longer be read .*re-snapshot`));
      return true;
    });
    await h.controlPlane.saveCheckpoints([saved]);
  });
});
