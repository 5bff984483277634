// Schedules from the control plane, on the real Temporal server (test namespace): sync creates one
// per enabled table and per platform pipeline, is a no-op when nothing changed, pauses a group of
// tables with the note, deletes the schedule of a table that was disabled, and a tick that finds the
// table's last run still going is skipped and counted (no worker polls this test's queue, so a run
// stays running).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { ScheduleId, SearchAttribute } from '../../lib/common/temporal';
import type { ControlPlane } from '../../lib/control-plane/store';
import { ScheduleStore } from '../../lib/schedules/store';
import { describeSchedules, desiredSchedules, managedScheduleIds, syncSchedules } from '../../lib/schedules/sync';
import { connectClient } from '../../lib/temporal/client';
import { createScratchControlPlane, testConfig, uniqueSuffix, type ScratchDatabase } from '../support/stack';

const COLUMNS = JSON.stringify([{ name: 'id', lakeName: 'id', sourceType: 'int', lakeType: 'int', nullable: false }]);

describe('schedules sync', () => {
  const config = testConfig();
  const queues = config.temporal.taskQueues;
  const source = `sched_${uniqueSuffix()}`;
  let db: ScratchDatabase;
  let controlPlane: ControlPlane;
  let store: ScheduleStore;
  let client: Client;

  const sync = async () => syncSchedules(client, queues, desiredSchedules(queues, await store.tableSchedules(), await store.platformSchedules()));
  const changeOf = (changes: { scheduleId: string; change: string }[], id: string) => changes.find((c) => c.scheduleId === id)?.change;

  before(async () => {
    ({ db, controlPlane } = await createScratchControlPlane());
    store = new ScheduleStore(controlPlane.pool);
    client = await connectClient(config);
    await controlPlane.pool.query(`INSERT INTO sources (source_name, engine, database_name, connection_secret) VALUES ($1, 'postgres', 'x', 'X_URL')`, [source]);
    for (const t of ['patients', 'visits', 'labs']) {
      await controlPlane.pool.query(
        `INSERT INTO tables (source_name, schema_name, table_name, primary_key, precombine_field, partition_field, columns, schedule_cron) VALUES ($1, 'public', $2, '{id}', 'id', 'id', $3, '*/5 * * * *')`,
        [source, t, COLUMNS],
      );
    }
  });

  after(async () => {
    if (client) {
      for (const id of await managedScheduleIds(client, queues)) await client.schedule.getHandle(id).delete();
      for await (const w of client.workflow.list({ query: `TaskQueue = "${queues.control}" AND ExecutionStatus = "Running"` })) await client.workflow.getHandle(w.workflowId, w.runId).terminate('test over');
      await client.connection.close();
    }
    await controlPlane?.close();
    await db?.drop();
  });

  it('creates one schedule per enabled table and per platform pipeline, then changes nothing', async () => {
    const first = await sync();
    const patients = ScheduleId.tablePipeline(queues, `${source}.public.patients`);
    assert.equal(changeOf(first, patients), 'created');
    assert.equal(changeOf(first, ScheduleId.platform(queues, 'reprocess-failed-events')), 'created');
    assert.equal(first.filter((c) => c.change === 'created').length, 6, JSON.stringify(first)); // 3 tables; archival, reprocessing, model checks
    const again = await sync();
    assert.deepEqual(new Set(again.map((c) => c.change)), new Set(['unchanged']));

    const d = await client.schedule.getHandle(patients).describe();
    assert.equal(d.action.type, 'startWorkflow');
    if (d.action.type === 'startWorkflow') {
      assert.equal(d.action.workflowType, 'runTablePipeline');
      assert.deepEqual(d.action.args, [{ table: `${source}.public.patients` }]);
      const attributes = d.action.typedSearchAttributes;
      assert.ok(attributes instanceof TypedSearchAttributes);
      assert.equal(attributes.get(SearchAttribute.table), `${source}.public.patients`);
    }
    assert.equal(d.policies.overlap, 'SKIP');
    assert.equal(d.policies.catchupWindow, 10 * 60 * 1000);
    assert.equal(d.spec.jitter, 30 * 1000, 'tables on one cron do not all start in the same second');
  });

  it('pauses a group of tables with its note, and a changed cron is an update', async () => {
    const paused = await store.setTablesPaused({ source, tables: [`${source}.public.pat*`, `${source}.public.visits`] }, 'source maintenance until 18:00', 'test');
    assert.deepEqual(paused, [`${source}.public.patients`, `${source}.public.visits`]);
    await controlPlane.pool.query(`UPDATE tables SET schedule_cron = '0 * * * *' WHERE table_name = 'labs'`);
    const changes = await sync();
    assert.equal(changeOf(changes, ScheduleId.tablePipeline(queues, `${source}.public.patients`)), 'paused');
    assert.equal(changeOf(changes, ScheduleId.tablePipeline(queues, `${source}.public.labs`)), 'updated');
    const reports = await describeSchedules(client, queues, ['visits', 'labs'].map((t) => ScheduleId.tablePipeline(queues, `${source}.public.${t}`)));
    const visits = reports.find((r) => r.scheduleId === ScheduleId.tablePipeline(queues, `${source}.public.visits`))!;
    assert.equal(visits.paused, true);
    assert.equal(visits.note, 'source maintenance until 18:00');
    assert.equal(reports.find((r) => r.scheduleId === ScheduleId.tablePipeline(queues, `${source}.public.labs`))!.paused, false);

    assert.deepEqual(await store.setTablesPaused({ source }, null, 'test'), [`${source}.public.patients`, `${source}.public.visits`]);
    const resumed = await sync();
    assert.equal(changeOf(resumed, ScheduleId.tablePipeline(queues, `${source}.public.visits`)), 'resumed');
    const audit = await controlPlane.auditTrail(`table:${source}.public.visits`);
    assert.deepEqual(audit.map((a) => a.action).slice(-2), ['schedule.paused', 'schedule.resumed']);
  });

  it('refuses a pause that names no table', async () => {
    await assert.rejects(store.setTablesPaused({}, 'x', 'test'), /name a source or at least one table/);
  });

  it('skips and counts a tick while the table is still running, and deletes the schedule of a disabled table', async () => {
    const id = ScheduleId.tablePipeline(queues, `${source}.public.labs`);
    const handle = client.schedule.getHandle(id);
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    // The first run holds the table (nothing polls this queue); the next tick must not start a second.
    for (let i = 0; i < 50 && (await handle.describe()).info.runningActions.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    let skipped = 0;
    for (let i = 0; i < 50 && skipped === 0; i++) {
      skipped = (await handle.describe()).info.numActionsSkippedOverlap;
      if (!skipped) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(skipped, 1);
    const [report] = await describeSchedules(client, queues, [id]);
    assert.ok(report);
    assert.equal(report.skippedOverlap, 1);
    assert.equal(report.running.length, 1);
    assert.match(report.running[0]!, new RegExp(`^table-pipeline/${source}\\.public\\.labs`));

    await controlPlane.pool.query(`UPDATE tables SET enabled = false WHERE table_name = 'labs'`);
    // Listing lags behind a change for a moment: sync deletes the schedule once it is listed.
    let deleted: string | undefined;
    for (let i = 0; i < 50 && !deleted; i++) {
      deleted = changeOf(await sync(), id);
      if (!deleted) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(deleted, 'deleted');
    await assert.rejects(client.schedule.getHandle(id).describe(), /not found/i);
  });
});
