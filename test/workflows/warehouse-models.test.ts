// Models end to end: MariaDB changes -> capture -> Hudi (and its change log) -> buildModels on the
// local PostgreSQL warehouse. The SCD2 patient dimension is compared with the history computed from
// the change log this test writes itself: several changes to one key in one window each become a
// version, a change whose file arrives late lands in the history at its own time, a delete closes
// the key. The SCD1 doctor dimension and the appointment fact follow the source; the daily report
// is rebuilt. Real Temporal, MariaDB, S3 server, Spark and PostgreSQL; scratch control plane,
// buckets and warehouse database.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import { WorkflowId } from '../../lib/common/temporal';
import { repoRoot } from '../../lib/config';
import { parseModelsFile } from '../../lib/models/definition';
import { encodeDmsParquet } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey } from '../../lib/raw-zone/keys';
import type { BuildModelsResult } from '../../workflows/buildModels';
import type { CheckModelsResult } from '../../workflows/checkModels';
import { WorkflowFailedError } from '@temporalio/client';
import type { UpsertLakeTableResult } from '../../workflows/upsertLakeTable';
import { CaptureHarness } from '../support/capture-harness';
import { readMysqlTable } from '../support/replay';

type State = { city: string; insurer: string | null };
interface Version extends State {
  valid_from: string;
  valid_to: string | null;
  is_current: boolean;
  change_seq: string;
}

describe('buildModels (MariaDB sources through the lake into PostgreSQL)', () => {
  const h = new CaptureHarness({
    engine: 'mysql',
    lake: true,
    tables: [
      ['doctors', 'joined_on'],
      ['patients', 'registered_at'],
      ['appointments', 'appointment_at', { hudiTableType: 'MERGE_ON_READ' }],
    ],
  });
  let wh: pg.Client;
  let src: mysql.Connection;
  /** The test's own record of what each watched patient went through, in order. */
  const history = new Map<string, State[]>();

  before(async () => {
    await h.start();
    wh = new pg.Client({ connectionString: h.warehouseDb!.url });
    await wh.connect();
    src = await mysql.createConnection({ uri: h.sourceUrl });
    // The sample models, pointed at this test's source, without the labs ones.
    const text = readFileSync(path.join(repoRoot, 'config/models/sample.yaml'), 'utf8').replace(/source: clinic\./g, `source: ${h.source}.`);
    const doc = parseYaml(text) as { models: { source: string }[]; reporting: { name: string }[] };
    doc.models = doc.models.filter((m) => m.source.startsWith(`${h.source}.`));
    doc.reporting = doc.reporting.filter((r) => r.name === 'rpt_daily_appointments');
    const parsed = parseModelsFile(doc);
    for (const m of parsed.models) await h.controlPlane.upsertModel(m, 'test');
    for (const r of parsed.reporting) await h.controlPlane.upsertReporting(r, 'test');
  });
  after(async () => {
    await src?.end();
    await wh?.end();
    await h.stop();
  });

  const upsertAll = async () => {
    for (const t of h.tables) {
      const key = `${h.source}.${t.schemaName}.${t.tableName}`;
      await h.client.workflow.execute('upsertLakeTable', { taskQueue: h.config.temporal.taskQueues.control, workflowId: h.nextId(WorkflowId.upsertLakeTable(key)), args: [{ table: key }] }) as UpsertLakeTableResult;
    }
  };
  const build = async (): Promise<BuildModelsResult> =>
    (await h.client.workflow.execute('buildModels', { taskQueue: h.config.temporal.taskQueues.control, workflowId: h.nextId(WorkflowId.buildModels('test')), args: [{}] })) as BuildModelsResult;

  const versions = async (patientId: string): Promise<Version[]> =>
    (
      await wh.query<Version>(
        `SELECT city, insurance_provider AS insurer, to_char(valid_from, 'YYYY-MM-DD HH24:MI:SS.US') AS valid_from, to_char(valid_to, 'YYYY-MM-DD HH24:MI:SS.US') AS valid_to, is_current, _danau_change_seq AS change_seq
         FROM analytics.dim_patient WHERE patient_id = $1 ORDER BY valid_from, _danau_change_seq`,
        [patientId],
      )
    ).rows;

  /** The versions must be the test's own history, one per change of state, back to back in time. */
  function assertHistory(patientId: string, got: Version[], deleted = false): void {
    const states = history.get(patientId)!;
    const expected = states.filter((s, i) => i === 0 || s.city !== states[i - 1]!.city || s.insurer !== states[i - 1]!.insurer);
    assert.deepEqual(got.map((v) => ({ city: v.city, insurer: v.insurer })), expected, `patient ${patientId}: versions`);
    got.forEach((v, i) => {
      if (i < got.length - 1) assert.equal(v.valid_to, got[i + 1]!.valid_from, `patient ${patientId}: version ${i + 1} ends where the next starts`);
      assert.equal(v.is_current, !deleted && i === got.length - 1, `patient ${patientId}: version ${i + 1} is_current`);
    });
    if (deleted) assert.notEqual(got.at(-1)!.valid_to, null, `patient ${patientId}: a delete closes the last version`);
    else assert.equal(got.at(-1)!.valid_to, null);
  }

  const currentPatients = async () => (await wh.query<{ patient_id: string; city: string; insurer: string | null; full_name: string }>('SELECT patient_id::text, city, insurance_provider AS insurer, full_name FROM analytics.dim_patient WHERE is_current ORDER BY patient_id')).rows;

  /** Every current dimension row equals the source row; facts resolve to dimension rows. */
  async function assertModelsFollowSource(): Promise<void> {
    const patients = h.tables.find((t) => t.tableName === 'patients')!;
    const source = await readMysqlTable(h.sourceUrl, 'clinic', 'patients', patients.columns, patients.primaryKey);
    const current = await currentPatients();
    assert.equal(current.length, source.size, 'one current version per source patient');
    for (const row of current) {
      const s = source.get(row.patient_id)!;
      assert.deepEqual({ city: row.city, insurer: row.insurer, full_name: row.full_name }, { city: s.city, insurer: s.insurance_provider, full_name: s.full_name }, `patient ${row.patient_id}`);
    }
    const count = async (sql: string) => Number((await src.query<mysql.RowDataPacket[]>(sql))[0][0]!.n);
    const appointments = await count('SELECT COUNT(*) AS n FROM appointments');
    const facts = await wh.query<{ n: string; unresolved: string }>(
      `SELECT COUNT(*) AS n, SUM(CASE WHEN p.patient_key IS NULL OR d.doctor_key IS NULL THEN 1 ELSE 0 END) AS unresolved
       FROM analytics.fact_appointment f LEFT JOIN analytics.dim_patient p ON p.patient_key = f.patient_key LEFT JOIN analytics.dim_doctor d ON d.doctor_key = f.doctor_key`,
    );
    assert.equal(Number(facts.rows[0]!.n), Number(appointments));
    assert.equal(Number(facts.rows[0]!.unresolved), 0);
    const doctors = await count('SELECT COUNT(*) AS n FROM doctors');
    assert.equal(Number((await wh.query<{ n: string }>('SELECT COUNT(*) AS n FROM analytics.dim_doctor WHERE NOT is_deleted')).rows[0]!.n), Number(doctors));
  }

  let watched: string[] = [];

  it('builds the dimensions, the fact and the report from the full load', async () => {
    await h.capture();
    await upsertAll();
    const result = await build();
    assert.deepEqual(result.levels, [['dim_doctor', 'dim_patient'], ['fact_appointment']]);
    assert.deepEqual(result.reporting.map((r) => r.name), ['rpt_daily_appointments']);
    assert.ok(result.reporting[0]!.rows > 0);
    await assertModelsFollowSource();
    const [rows] = await src.query<mysql.RowDataPacket[]>('SELECT p.patient_id, p.city, p.insurance_provider FROM patients p WHERE NOT EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = p.patient_id) ORDER BY p.patient_id LIMIT 4');
    watched = rows.map((r) => String(r.patient_id));
    assert.equal(watched.length, 4, 'the sample has patients without appointments');
    for (const r of rows) history.set(String(r.patient_id), [{ city: String(r.city), insurer: (r.insurance_provider as string | null) ?? null }]);
    for (const id of watched) assertHistory(id, await versions(id));
  });

  it('makes a version of each of several changes to one key in one window, none of a change to an untracked column, and closes a deleted key', async () => {
    const [p1, p2, p3] = watched as [string, string, string];
    const change = async (id: string, set: Partial<State> & { phone?: string }) => {
      const cols = Object.entries({ city: set.city, insurance_provider: set.insurer, phone: set.phone }).filter(([, v]) => v !== undefined);
      await src.query(`UPDATE patients SET ${cols.map(([k]) => `${k} = ?`).join(', ')} WHERE patient_id = ?`, [...cols.map(([, v]) => v), id]);
      const states = history.get(id)!;
      if (set.city !== undefined || set.insurer !== undefined) states.push({ ...states.at(-1)!, ...(set.city !== undefined ? { city: set.city } : {}), ...(set.insurer !== undefined ? { insurer: set.insurer } : {}) });
    };
    // Three moves in one capture window, each its own transaction; a second apart (the binlog's clock).
    // Other tests change the shared sample too: a move to the city a patient is already in would be
    // no change at all (MariaDB writes no binlog row for it), so the cities are chosen to differ.
    const moves = ['Bandung', 'Surabaya', 'Medan', 'Makassar', 'Denpasar'].filter((c) => c !== history.get(p1)![0]!.city).slice(0, 3);
    for (const city of moves) {
      await change(p1, { city });
      await new Promise((r) => setTimeout(r, 1100));
    }
    await change(p2, { phone: `+62 811 ${Date.now() % 100_000_000}` });
    await change(p2, { insurer: `Asuransi Uji ${Date.now() % 100_000}` });
    await src.query('DELETE FROM patients WHERE patient_id = ?', [p3]);
    await src.query("UPDATE doctors SET consultation_fee = consultation_fee + 1000 WHERE doctor_id = (SELECT MIN(doctor_id) FROM (SELECT doctor_id FROM doctors) d)");
    await h.capture();
    await upsertAll();
    const result = await build();
    assert.ok(result.models.find((m) => m.model === 'dim_patient')!.pull.rows >= 6);
    await assertModelsFollowSource();
    const v1 = await versions(p1);
    assertHistory(p1, v1);
    assert.equal(v1.length, 4, 'the loaded version and one per move');
    assertHistory(p2, await versions(p2));
    assertHistory(p3, await versions(p3), true);
  });

  it('inserts a change whose file arrives late into the history at its own time, splitting the interval, without making it current', async () => {
    const p1 = watched[0]!;
    const before = await versions(p1);
    // A change between the loaded version and the first move: at the source it happened then, but
    // its file reached the raw zone only now (DMS retried it, say).
    const [loaded, firstMove] = [before[0]!, before[1]!];
    const t = loaded.valid_from < firstMove.valid_from ? new Date((Date.parse(`${loaded.valid_from}Z`) + Date.parse(`${firstMove.valid_from}Z`)) / 2) : new Date(Date.parse(`${loaded.valid_from}Z`));
    const commitTimestamp = t.toISOString().replace('T', ' ').replace('Z', '000');
    const seq = `${loaded.change_seq}0001`;
    assert.ok(loaded.change_seq < seq && seq < firstMove.change_seq);
    const patients = h.tables.find((x) => x.tableName === 'patients')!;
    const current = await readMysqlTable(h.sourceUrl, 'clinic', 'patients', patients.columns, patients.primaryKey);
    const row = { ...current.get(p1)! };
    const values = Object.fromEntries(patients.columns.map((c) => [c.name, c.lakeType === 'timestamp' && row[c.name] ? row[c.name]!.replace('T', ' ').replace('Z', '') : (row[c.name] ?? null)]));
    // A city the patient was in neither before nor after it, or it would be no change at all.
    const lateCity = ['Yogyakarta', 'Malang', 'Bogor'].find((c) => c !== loaded.city && c !== firstMove.city)!;
    values.city = lateCity;
    const body = await encodeDmsParquet({ table: `${h.source}.clinic.patients`, columns: patients.columns, previousChangeSeq: '', changes: [{ op: 'U', commitTimestamp, changeSeq: seq, values }] });
    await h.adapters.s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: cdcObjectKey({ source: h.source, schema: 'clinic', table: 'patients' }, commitTimestamp, seq), Body: body }));
    history.get(p1)!.splice(1, 0, { ...history.get(p1)![0]!, city: lateCity });

    const key = `${h.source}.clinic.patients`;
    const lake = (await h.client.workflow.execute('upsertLakeTable', { taskQueue: h.config.temporal.taskQueues.control, workflowId: h.nextId(WorkflowId.upsertLakeTable(key)), args: [{ table: key }] })) as UpsertLakeTableResult;
    assert.equal(lake.totals.rowsStale, 1, 'the processed table keeps the newer row');
    await build();
    const after = await versions(p1);
    assertHistory(p1, after);
    assert.equal(after[1]!.city, lateCity);
    assert.equal(after[1]!.valid_from, commitTimestamp);
    assert.equal(after[0]!.valid_to, commitTimestamp, 'the loaded version now ends at the late change');
    await assertModelsFollowSource();
  });

  it("checks every model's invariants over its whole table on demand, and names the key that breaks one", async () => {
    const check = async () =>
      (await h.client.workflow.execute('checkModels', { taskQueue: h.config.temporal.taskQueues.control, workflowId: h.nextId(WorkflowId.checkModels('test')), args: [{}] })) as CheckModelsResult;
    const clean = await check();
    assert.deepEqual(clean.models.map((m) => m.model).sort(), ['dim_doctor', 'dim_patient', 'fact_appointment']);
    assert.ok(clean.models.every((m) => m.checks.length > 0 && m.checks.every((c) => c.offendingKeys === 0)), JSON.stringify(clean));

    // Every version of one patient current: a second current version, outside any batch.
    const p1 = watched[0]!;
    const dim = `${h.config.warehouse.schema}.dim_patient`;
    await wh.query(`UPDATE ${dim} SET is_current = TRUE WHERE patient_id = $1`, [p1]);
    try {
      await assert.rejects(check(), (err: unknown) => {
        const message = err instanceof WorkflowFailedError ? (err.cause?.message ?? '') : '';
        assert.match(message, new RegExp(`one_current_version [^:]*dim_patient: 1 key\\(s\\), first ${p1}\\b`));
        return true;
      });
    } finally {
      await wh.query(`UPDATE ${dim} SET is_current = (valid_to IS NULL) WHERE patient_id = $1`, [p1]);
    }
  });
});
