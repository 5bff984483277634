// The table pipeline and the reprocessing loop end to end: MariaDB changes → capture → checks →
// Hudi → the model reading the table → the report on that model, in one run; a run with nothing new
// skips each step and says so; pause holds a run and resume lets it go on; cancelling a run stops
// its lake step. A broken table stops at its checks with a failed event and an alert on a real
// webhook; the reprocessing loop retries it with backoff and dead-letters it at the cap (another
// alert); once fixed, a retry resolves it. Real Temporal, MariaDB, S3 server, Spark and PostgreSQL.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { WorkflowFailedError } from '@temporalio/client';
import { parse as parseYaml } from 'yaml';
import { WorkflowId } from '../../lib/common/temporal';
import { repoRoot } from '../../lib/config';
import { FailedEventStore } from '../../lib/failed-events/store';
import { parseModelsFile } from '../../lib/models/definition';
import type { ReprocessFailedEventsResult, ReprocessStatus } from '../../workflows/reprocessFailedEvents';
import type { RunTablePipelineResult, TablePipelineStatus } from '../../workflows/runTablePipeline';
import { CaptureHarness } from '../support/capture-harness';

interface ReceivedAlert {
  kind: string;
  table?: string;
  summary: string;
  details?: Record<string, unknown>;
}

describe('runTablePipeline and reprocessFailedEvents (MariaDB source, local Spark, PostgreSQL warehouse)', () => {
  const received: ReceivedAlert[] = [];
  let webhook: Server;
  let h: CaptureHarness;
  let src: mysql.Connection;
  let wh: pg.Client;
  let failed: FailedEventStore;
  let doctors: string;
  let patients: string;

  before(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as ReceivedAlert);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    process.env.DANAU_ALERT_WEBHOOK_URL = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/alerts`;
    h = new CaptureHarness({ engine: 'mysql', lake: true, tables: [['doctors', 'joined_on'], ['patients', 'registered_at']] });
    await h.start();
    doctors = `${h.source}.clinic.doctors`;
    patients = `${h.source}.clinic.patients`;
    failed = new FailedEventStore(h.controlPlane.pool);
    src = await mysql.createConnection({ uri: h.sourceUrl });
    wh = new pg.Client({ connectionString: h.warehouseDb!.url });
    await wh.connect();
    // The sample's doctor dimension, pointed at this test's source, and a report that reads it.
    const doc = parseYaml(readFileSync(path.join(repoRoot, 'config/models/sample.yaml'), 'utf8').replace(/source: clinic\./g, `source: ${h.source}.`)) as { models: { name: string }[]; reporting: unknown[] };
    doc.models = doc.models.filter((m) => m.name === 'dim_doctor');
    doc.reporting = [{ name: 'rpt_doctors_by_specialty', kind: 'table', dependsOn: ['dim_doctor'], sql: 'SELECT specialty, COUNT(*) AS doctors FROM dim_doctor WHERE NOT is_deleted GROUP BY specialty' }];
    const parsed = parseModelsFile(doc);
    for (const m of parsed.models) await h.controlPlane.upsertModel(m, 'test');
    for (const r of parsed.reporting) await h.controlPlane.upsertReporting(r, 'test');
    // A report that also reads a model of a table this test never pipes: on a first run it is not built yet.
    await h.controlPlane.upsertReporting(
      { name: 'rpt_doctor_appointments', kind: 'table', dependsOn: ['dim_doctor', 'fact_appointment'], enabled: true, sql: 'SELECT d.specialty, COUNT(f.doctor_key) AS appointments FROM dim_doctor d LEFT JOIN fact_appointment f ON f.doctor_key = d.doctor_key GROUP BY d.specialty' },
      'test',
    );
  });

  after(async () => {
    delete process.env.DANAU_ALERT_WEBHOOK_URL;
    await src?.end();
    await wh?.end();
    await h?.stop();
    webhook?.close();
  });

  const start = (table: string) =>
    h.client.workflow.start('runTablePipeline', { taskQueue: h.config.temporal.taskQueues.control, workflowId: h.nextId(WorkflowId.tablePipeline(table)), args: [{ table }] });
  const run = async (table: string) => (await (await start(table)).result()) as RunTablePipelineResult;
  const reprocess = async (input: Record<string, unknown>) =>
    (await h.client.workflow.execute('reprocessFailedEvents', { taskQueue: h.config.temporal.taskQueues.control, workflowId: h.nextId(WorkflowId.reprocessFailedEvents('test')), args: [input] })) as ReprocessFailedEventsResult;
  const statusOf = (r: RunTablePipelineResult) => Object.fromEntries(r.steps.map((s) => [s.name, s.status]));
  const touchDoctor = async () => {
    await src.query("UPDATE doctors SET consultation_fee = consultation_fee + 1, updated_at = NOW(6) WHERE doctor_id = (SELECT MIN(doctor_id) FROM (SELECT doctor_id FROM doctors) d)");
    await h.capture();
  };

  it('takes a table from the source to its model and report in one run, each step named', async () => {
    await h.capture();
    const r = await run(doctors);
    assert.equal(r.outcome, 'completed', JSON.stringify(r.steps));
    assert.deepEqual(statusOf(r), { checks: 'done', lake: 'done', models: 'done', reporting: 'done' });
    assert.ok(r.lake && r.lake.rowsUpserted > 0);
    const [rows] = await src.query<mysql.RowDataPacket[]>('SELECT doctor_id FROM doctors ORDER BY doctor_id');
    const built = await wh.query<{ id: string }>('SELECT doctor_id::text AS id FROM analytics.dim_doctor WHERE NOT is_deleted ORDER BY doctor_id');
    assert.deepEqual(built.rows.map((b) => b.id), rows.map((s) => String(s.doctor_id)));
    const report = await wh.query<{ n: string }>('SELECT SUM(doctors)::text AS n FROM analytics.rpt_doctors_by_specialty');
    assert.equal(Number(report.rows[0]!.n), rows.length);
    assert.deepEqual(r.reporting.map((x) => [x.name, x.skipped]).sort(), [
      ['rpt_doctor_appointments', 'fact_appointment not built yet'],
      ['rpt_doctors_by_specialty', null],
    ]);
    assert.match(r.steps[3]!.detail, /rpt_doctor_appointments skipped: fact_appointment not built yet/);
  });

  it('skips what has nothing new to do, and says so', async () => {
    const r = await run(doctors);
    assert.equal(r.outcome, 'completed');
    assert.deepEqual(statusOf(r), { checks: 'done', lake: 'skipped', models: 'skipped', reporting: 'skipped' });
    assert.match(r.steps[1]!.detail, /no new raw files/);
    assert.match(r.steps[2]!.detail, /already at the lake's newest commit/);
  });

  it('holds a paused run between steps, answers status, alerts while past its freshness deadline, and goes on when resumed', async () => {
    await touchDoctor();
    // The report's missing input now exists: this run refreshes it.
    await wh.query('CREATE TABLE analytics.fact_appointment (appointment_id int, doctor_key char(32))');
    const alertsBefore = received.length;
    const handle = await h.client.workflow.signalWithStart('runTablePipeline', {
      taskQueue: h.config.temporal.taskQueues.control,
      workflowId: h.nextId(WorkflowId.tablePipeline(doctors)),
      // A 2.4 s deadline: it passes while the run is held.
      args: [{ table: doctors, freshnessDeadlineMinutes: 0.04 }],
      signal: 'pause',
    });
    let status: TablePipelineStatus | undefined;
    for (let i = 0; i < 50 && !status; i++) {
      status = await handle.query<TablePipelineStatus>('status').catch(() => undefined);
      if (!status) await new Promise((r) => setTimeout(r, 200));
    }
    const lateAlerts = () => received.slice(alertsBefore).filter((a) => a.kind === 'freshness_deadline' && a.table === doctors);
    for (let i = 0; i < 75 && lateAlerts().length === 0; i++) await new Promise((r) => setTimeout(r, 200));
    status = await handle.query<TablePipelineStatus>('status');
    assert.equal(status.paused, true);
    assert.equal(status.steps[0]!.status, 'pending', 'nothing ran while paused');
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    assert.equal(status.late, true);
    const late = lateAlerts();
    assert.equal(late.length, 1, 'the deadline alert arrives while the run is still going');
    assert.match(late[0]!.summary, /past its freshness deadline/);
    await handle.signal('resume');
    const r = (await handle.result()) as RunTablePipelineResult;
    assert.equal(r.outcome, 'completed');
    assert.equal(r.late, true);
    assert.equal(statusOf(r).lake, 'done');
    assert.equal(r.lake!.rowsUpserted, 1);
    assert.equal(statusOf(r).models, 'done');
    assert.deepEqual(r.reporting.map((x) => [x.name, x.skipped]).sort(), [
      ['rpt_doctor_appointments', null],
      ['rpt_doctors_by_specialty', null],
    ]);
  });

  it('cancelling a run cancels its lake step and the Spark job under it', async () => {
    await touchDoctor();
    const handle = await start(doctors);
    for (let i = 0; i < 300; i++) {
      const s = await handle.query<TablePipelineStatus>('status').catch(() => undefined);
      if (s?.step === 'lake') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 4000)); // spark-submit is starting
    await handle.cancel();
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && /cancel/i.test(String(err.cause?.message ?? err.message)));
    const lake = h.client.workflow.getHandle(WorkflowId.upsertLakeTable(doctors));
    let lakeStatus = '';
    for (let i = 0; i < 150 && lakeStatus !== 'CANCELLED'; i++) {
      lakeStatus = (await lake.describe()).status.name;
      if (lakeStatus !== 'CANCELLED') await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(lakeStatus, 'CANCELLED');
    // The planned batch is resumed by the next run, which converges.
    const next = await run(doctors);
    assert.equal(next.outcome, 'completed');
    assert.equal(statusOf(next).lake, 'done');
  });

  it('stops a broken table at its checks, files one failed event and alerts once', async () => {
    await h.capture();
    await h.controlPlane.pauseTable(h.tables.find((t) => t.tableName === 'patients')!.tableId, 'column city changed from varchar(100) to int', 'test');
    const r = await run(patients);
    assert.equal(r.outcome, 'stopped');
    assert.deepEqual(statusOf(r), { checks: 'stopped', lake: 'skipped', models: 'skipped', reporting: 'skipped' });
    assert.match(r.steps[0]!.detail, /is paused: column city changed/);
    assert.ok(r.failedEventId);
    const again = await run(patients);
    assert.equal(again.failedEventId, r.failedEventId, 'one open event per broken table');
    const [event] = await failed.get([r.failedEventId]);
    assert.equal(event!.status, 'pending');
    assert.equal(event!.occurrences, 2);
    assert.equal(event!.table, patients);
    assert.equal(event!.errorType, 'TablePaused');
    const alerts = received.filter((a) => a.table === patients && a.kind === 'pipeline_failed');
    assert.equal(alerts.length, 1);
    assert.match(alerts[0]!.summary, /column city changed/);
  });

  it('retries the failed event with backoff and dead-letters it at the cap, with an alert', async () => {
    const [open] = await failed.list({ status: ['pending'], table: patients });
    assert.ok(open);
    const first = await reprocess({ maxAttempts: 2, backoffSeconds: 0 });
    const o1 = first.outcomes.find((o) => o.eventId === open.eventId)!;
    assert.deepEqual([o1.kind, o1.status], ['failed', 'pending']);
    assert.match(o1.detail, /paused/);
    const second = await reprocess({ maxAttempts: 2, backoffSeconds: 0 });
    const o2 = second.outcomes.find((o) => o.eventId === open.eventId)!;
    assert.equal(o2.status, 'dead_letter');
    const [dead] = await failed.get([open.eventId]);
    assert.equal(dead!.status, 'dead_letter');
    assert.equal(dead!.attempts, 2);
    assert.ok(received.some((a) => a.kind === 'dead_letter' && a.table === patients), JSON.stringify(received));
    // A dead letter is not retried by the loop on its own.
    const third = await reprocess({ maxAttempts: 2, backoffSeconds: 0 });
    assert.ok(!third.outcomes.some((o) => o.eventId === open.eventId));
  });

  it('resolves the event when a person fixed the table and retries it', async () => {
    const [dead] = await failed.list({ status: ['dead_letter'], table: patients });
    assert.ok(dead);
    await h.controlPlane.pool.query("UPDATE tables SET paused_reason = NULL WHERE table_name = 'patients'");
    const r = await reprocess({ eventIds: [dead.eventId] });
    assert.deepEqual(r.outcomes.map((o) => [o.eventId, o.status]), [[dead.eventId, 'resolved']]);
    const [now] = await failed.get([dead.eventId]);
    assert.equal(now!.status, 'resolved');
  });

  it('lets a person skip a claimed event by signal before it is retried', async () => {
    const { event } = await failed.recordPipelineFailure({ table: doctors, errorType: 'PipelineStepFailed', reason: 'lake: a test failure', dataRef: {}, workflowId: 'test', runId: 'test' });
    const handle = await h.client.workflow.signalWithStart('reprocessFailedEvents', {
      taskQueue: h.config.temporal.taskQueues.control,
      workflowId: h.nextId(WorkflowId.reprocessFailedEvents('test')),
      args: [{ eventIds: [event.eventId] }],
      signal: 'pause',
    });
    let status: ReprocessStatus | undefined;
    for (let i = 0; i < 75 && !status?.claimed.length; i++) {
      status = await handle.query<ReprocessStatus>('status').catch(() => undefined);
      if (!status?.claimed.length) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(status!.claimed.map((c) => [c.eventId, c.table]), [[event.eventId, doctors]]);
    await handle.signal('skip', { eventIds: [event.eventId], note: 'fixed by hand', by: 'on-call' });
    await handle.signal('resume');
    const r = (await handle.result()) as ReprocessFailedEventsResult;
    assert.deepEqual(r.outcomes.map((o) => [o.eventId, o.kind, o.status]), [[event.eventId, 'skipped', 'skipped']]);
    const [now] = await failed.get([event.eventId]);
    assert.equal(now!.status, 'skipped');
    assert.equal(now!.settledBy, 'on-call');
  });
});
