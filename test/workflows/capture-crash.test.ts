// The capture survives its worker being killed at random moments: the sample generator changes both
// source databases while captureSource runs for each, the worker process is SIGKILLed and restarted
// several times, and afterwards replaying the raw files in order reproduces every source table
// exactly, with files that chain without gap or overlap. Real Temporal, MariaDB, PostgreSQL, S3.
import assert from 'node:assert/strict';
import { rawTableOf } from '../../lib/raw-zone/keys';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Client, WorkflowHandle } from '@temporalio/client';
import pg from 'pg';
import { WorkflowId } from '../../lib/common/temporal';
import type { ControlPlane, TableRecord } from '../../lib/control-plane/store';
import { checkContinuity } from '../../lib/raw-zone/checks';
import { readRawFileInfo } from '../../lib/raw-zone/read';
import { createS3Client } from '../../lib/s3';
import { MysqlSource } from '../../lib/sources/mysql';
import { PostgresSource } from '../../lib/sources/postgres';
import { checkAgainstSource, parseTableDefinition } from '../../lib/tables/definition';
import { connectClient } from '../../lib/temporal/client';
import { generateChanges } from '../../scripts/sample/generator';
import type { CaptureStatus } from '../../workflows/captureSource';
import { ChildWorker } from '../support/child-worker';
import { getBytes, listRawKeys, readMysqlTable, readPostgresTable, replayRawTable } from '../support/replay';
import { createScratchControlPlane, testConfig, uniqueSuffix, type ScratchDatabase } from '../support/stack';

const KILLS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('capture under worker crashes', () => {
  const suffix = uniqueSuffix();
  const pgSource = `labs_crash_${suffix}`;
  const mySource = `clinic_crash_${suffix}`;
  const bucket = `danau-test-raw-${randomBytes(4).toString('hex')}`;
  let db: ScratchDatabase;
  let controlPlane: ControlPlane;
  let client: Client;
  let worker: ChildWorker | undefined;
  const env = testConfig().environment;
  const s3 = createS3Client(testConfig());
  const tables: TableRecord[] = [];

  before(async () => {
    ({ db, controlPlane } = await createScratchControlPlane());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await controlPlane.upsertSource({ name: pgSource, engine: 'postgres', database: 'labs', connectionSecret: 'DANAU_SOURCE_LABS_URL', description: '' }, 'test');
    await controlPlane.upsertSource({ name: mySource, engine: 'mysql', database: 'clinic', connectionSecret: 'DANAU_SOURCE_CLINIC_URL', description: '' }, 'test');
    const pgCatalog = new PostgresSource(env.DANAU_SOURCE_LABS_URL!);
    const myCatalog = new MysqlSource(env.DANAU_SOURCE_CLINIC_URL!);
    for (const [source, engine, schema, table, partitionField] of [
      [pgSource, 'postgres', 'public', 'lab_orders', 'ordered_at'],
      [pgSource, 'postgres', 'public', 'lab_results', 'resulted_at'],
      [mySource, 'mysql', 'clinic', 'patients', 'registered_at'],
      [mySource, 'mysql', 'clinic', 'appointments', 'appointment_at'],
    ] as const) {
      const catalog = engine === 'postgres' ? pgCatalog : myCatalog;
      const def = parseTableDefinition({ source, schema, table, precombineField: 'updated_at', partitionField });
      const check = checkAgainstSource(def, engine, (await catalog.describeTable(schema, table))!);
      tables.push((await controlPlane.recordTable(def, check.primaryKey, check.columns, 'test')).table);
    }
    await pgCatalog.close();
    await myCatalog.close();
    client = await connectClient(testConfig());
  });

  after(async () => {
    await worker?.kill();
    const admin = new pg.Client({ connectionString: env.DANAU_SOURCE_LABS_URL });
    await admin.connect();
    await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [`danau_${pgSource}`]);
    await admin.query(`DROP PUBLICATION IF EXISTS danau_${pgSource}`);
    await admin.end();
    await client?.connection.close();
    await controlPlane?.close();
    await db?.drop();
    s3.destroy();
  });

  it(`loses and doubles nothing across ${KILLS} kills`, { timeout: 10 * 60_000 }, async () => {
    worker = new ChildWorker(['control', 'io'], { DANAU_CONTROL_DATABASE_URL: db.url, DANAU_RAW_BUCKET: bucket });
    worker.start();
    const handles: WorkflowHandle[] = [];
    for (const source of [pgSource, mySource]) {
      handles.push(
        await client.workflow.start('captureSource', {
          taskQueue: testConfig().temporal.taskQueues.control,
          workflowId: `${WorkflowId.captureSource(source)}/${suffix}`,
          args: [{ source, windowSeconds: 1, maxChanges: 25 }],
        }),
      );
    }
    for (let round = 0; round < KILLS; round++) {
      await generateChanges(env, { changes: 40, seed: 100 + round });
      await sleep(300 + Math.floor(Math.random() * 2500));
      await generateChanges(env, { changes: 20, seed: 200 + round });
      await worker.restart();
    }

    // Let both captures catch up: a window that finds nothing new, after the last change.
    const deadline = Date.now() + 4 * 60_000;
    for (const handle of handles) {
      for (;;) {
        assert.ok(Date.now() < deadline, `capture did not catch up; worker log:\n${worker.log.slice(-3000)}`);
        const s = await handle.query<CaptureStatus>('status').catch(() => null);
        if (s?.last && s.last.changes === 0 && s.totals.windows > 2) break;
        await sleep(1000);
      }
      await handle.cancel();
    }

    for (const t of tables) {
      const url = t.sourceName === pgSource ? env.DANAU_SOURCE_LABS_URL! : env.DANAU_SOURCE_CLINIC_URL!;
      const actual = t.sourceName === pgSource
        ? await readPostgresTable(url, t.schemaName, t.tableName, t.columns, t.primaryKey)
        : await readMysqlTable(url, t.schemaName, t.tableName, t.columns, t.primaryKey);
      const replayed = await replayRawTable(s3, bucket, rawTableOf(t), t.columns, t.primaryKey);
      assert.equal(replayed.size, actual.size, `${t.tableName}: row count`);
      for (const [key, row] of actual) assert.deepEqual(replayed.get(key), row, `${t.tableName} row ${key}`);
      const infos = [];
      for (const key of await listRawKeys(s3, bucket, rawTableOf(t))) infos.push(await readRawFileInfo(key, await getBytes(s3, bucket, key)));
      const continuity = checkContinuity(t.tableName, infos);
      assert.ok(continuity.ok, continuity.message);
    }
  });
});
