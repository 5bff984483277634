// The lake upsert survives its Spark worker being killed mid-job, on MariaDB sources (DATETIME,
// TINYINT(1) booleans, JSON, decimals): the worker serving the spark queue is a child process,
// SIGKILLed while the lake job runs and started again. The next attempt stops the orphaned
// spark-submit (or finds its commit in the Hudi timeline) and the processed tables, read through
// Spark SQL, equal the source tables. Real Temporal, MariaDB, S3 server and Spark.
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
import { canonicalLakeRow } from '../support/lake';
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

    for (const [t, killAfterMs] of [[h.tables[0]!, 8_000], [h.tables[1]!, 20_000]] as const) {
      const key = `${h.source}.${t.schemaName}.${t.tableName}`;
      const handle = await h.client.workflow.start('upsertLakeTable', {
        taskQueue: h.config.temporal.taskQueues.control,
        workflowId: h.nextId(WorkflowId.upsertLakeTable(key)),
        args: [{ table: key, jobHeartbeatTimeoutSeconds: 15 }],
      });
      // Kill the worker a while into the job: the JVM is up, Hudi is reading or writing.
      for (let i = 0; i < 240; i++) {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        if (pending.some((a) => a.activityType?.name === 'runLakeUpsert' && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)) break;
        await sleep(250);
      }
      await sleep(killAfterMs);
      await worker.restart();
      const result = (await handle.result()) as UpsertLakeTableResult;
      assert.equal(result.batches.length, 1, JSON.stringify(result));
      assert.ok(result.latestInstant, `${t.tableName}: committed`);
      await assertTableMatches(engine, t);
    }
    assert.doesNotMatch(worker.log, /Error: /, 'the restarted worker logged no error');
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
