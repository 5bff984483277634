// The lake upsert survives what runs it being killed mid-job, on MariaDB sources (DATETIME,
// TINYINT(1) booleans, JSON, decimals):
//   - CoW: the worker serving the spark queue (a child process) is SIGKILLed while the job runs in the
//     warm engine, and started again; the next attempt stops the orphaned job client, joins its engine
//     session and interrupts what it left running (or finds its commit in the Hudi timeline);
//   - MoR: the warm engine's JVM itself is SIGKILLed mid-job; its supervisor starts it again, the job's
//     failure is reported retryable (LakeEngineError) and the next attempt rolls back the half-written
//     commit and applies the batch.
// Either way the processed tables, read through Spark SQL, equal the source tables. Real Temporal,
// MariaDB, S3 server and Spark.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { WorkflowId } from '../../lib/common/temporal';
import type { TableRecord } from '../../lib/control-plane/store';
import { hudiTableName, lakeBasePath } from '../../lib/lake/batches';
import { SparkSqlQueryEngine } from '../../lib/lake/query';
import { generateChanges } from '../../scripts/sample/generator';
import type { UpsertLakeTableResult } from '../../workflows/upsertLakeTable';
import { CaptureHarness } from '../support/capture-harness';
import { ChildWorker } from '../support/child-worker';
import { canonicalLakeRow, warmEngineJvmPid } from '../support/lake';
import { readMysqlTable, type CanonicalRow } from '../support/replay';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lake upsert under a killed Spark worker (MariaDB sources)', () => {
  const h = new CaptureHarness({
    engine: 'mysql',
    lake: true,
    sparkInProcess: false,
    tables: [
      ['patients', 'registered_at', { hudiTableType: 'COPY_ON_WRITE' }],
      ['appointments', 'appointment_at', { hudiTableType: 'MERGE_ON_READ' }],
    ],
  });
  let worker: ChildWorker | undefined;

  before(() => h.start());
  after(async () => {
    await worker?.kill();
    await h.stop();
  });

  it('converges on the source after the worker is killed during the job, for CoW and MoR', async () => {
    await h.capture();
    await generateChanges(h.config.environment, { changes: 100, seed: 5 });
    await h.capture();
    worker = new ChildWorker(['spark'], h.workerEnvironment());
    worker.start();
    const engine = new SparkSqlQueryEngine(h.adapters.spark, h.adapters.s3, h.config);

    for (const [t, victim] of [[h.tables[0]!, 'worker'], [h.tables[1]!, 'engine']] as const) {
      const key = `${h.source}.${t.schemaName}.${t.tableName}`;
      const handle = await h.client.workflow.start('upsertLakeTable', {
        taskQueue: h.config.temporal.taskQueues.control,
        workflowId: h.nextId(WorkflowId.upsertLakeTable(key)),
        args: [{ table: key, jobHeartbeatTimeoutSeconds: 15 }],
      });
      // Kill a moment into the job: its client has connected, the engine is reading or writing.
      for (let i = 0; i < 240; i++) {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        if (pending.some((a) => a.activityType?.name === 'runLakeUpsert' && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)) break;
        await sleep(250);
      }
      await sleep(1_500);
      if (victim === 'worker') {
        await worker.restart();
      } else {
        const jvm = warmEngineJvmPid(h.config.home);
        assert.ok(jvm, 'the warm engine is running');
        process.kill(jvm, 'SIGKILL');
        // The supervisor brings it back: another JVM, under the same supervisor.
        let back: number | null = null;
        for (let i = 0; i < 240 && (back === null || back === jvm); i++) {
          await sleep(250);
          back = warmEngineJvmPid(h.config.home);
        }
        assert.ok(back && back !== jvm, 'the engine was started again');
      }
      const result = (await handle.result()) as UpsertLakeTableResult;
      // A worker killed mid-job: its activity ran again. (An engine killed mid-job may not need that:
      // the job's client sends its command again once the engine is back, or fails retryable.)
      if (victim === 'worker') {
        const started = (await handle.fetchHistory()).events?.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : [])) ?? [];
        assert.ok(Math.max(...started) >= 2, `${t.tableName}: the worker was killed mid-job and the job ran again (attempts ${started.join(',')})`);
      }
      assert.equal(result.batches.length, 1, JSON.stringify(result));
      assert.ok(result.latestInstant, `${t.tableName}: committed`);
      await assertTableMatches(engine, t);
    }
    // The restarted worker logged no error, but for what the engine's death is designed to cause: a
    // job of the engine's table that was running in it failed retryable (LakeEngineError) and ran again.
    const engineTable = `${h.source}.${h.tables[1]!.schemaName}.${h.tables[1]!.tableName}`;
    const errors = worker.log.split('\n').filter((line) => /Error: /.test(line));
    const unexpected = errors.filter((line) => !(line.includes('"activityType":"runLakeUpsert"') && line.includes(`"table":"${engineTable}"`) && line.includes('(LakeEngineError)') && line.includes('"level":40')));
    assert.deepEqual(unexpected, [], 'the restarted worker logged no other error');
  });

  async function assertTableMatches(engine: SparkSqlQueryEngine, t: TableRecord): Promise<void> {
    const view = `${hudiTableName(t)}${t.hudiTableType === 'MERGE_ON_READ' ? '_rt' : ''}`;
    const result = await engine.query([{ name: hudiTableName(t), basePath: lakeBasePath(h.config, t), tableType: t.hudiTableType }], `SELECT to_json(struct(*)) AS row FROM ${view}`, { maxRows: 100_000 });
    const lake = new Map<string, CanonicalRow>();
    for (const r of result.rows) {
      const row = canonicalLakeRow(t, r.row);
      const key = t.primaryKey.map((k) => row[k]).join('|');
      assert.ok(!lake.has(key), `${t.tableName}: key ${key} twice`);
      lake.set(key, row);
    }
    const source = await readMysqlTable(h.sourceUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
    assert.equal(lake.size, source.size, `${t.tableName}: row count`);
    for (const [key, row] of source) assert.deepEqual(lake.get(key), row, `${t.tableName} row ${key}`);
  }
});
