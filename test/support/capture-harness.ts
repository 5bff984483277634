// What every capture test needs: a scratch control plane and raw bucket, one source registered
// under a unique name with its tables onboarded from the live catalog, workers on the test's own
// queues, a `capture()` that runs one window, and the proof that the raw zone reproduces the source.
import assert from 'node:assert/strict';
import { rawTableOf } from '../../lib/raw-zone/keys';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pg from 'pg';
import { WorkflowId } from '../../lib/common/temporal';
import type { ControlPlane, TableRecord } from '../../lib/control-plane/store';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import { checkContinuity } from '../../lib/raw-zone/checks';
import { readRawFileInfo } from '../../lib/raw-zone/read';
import { MysqlSource } from '../../lib/sources/mysql';
import { PostgresSource } from '../../lib/sources/postgres';
import { checkAgainstSource, parseTableDefinition, type TableDefinitionInput } from '../../lib/tables/definition';
import { connectClient } from '../../lib/temporal/client';
import type { CaptureSourceInput, CaptureStatus } from '../../workflows/captureSource';
import { createAdapters, createWorkers, type Adapters } from '../../workers/workers';
import { getBytes, listRawKeys, readMysqlTable, readPostgresTable, replayRawTable } from './replay';
import { createScratchControlPlane, createScratchDatabase, TEST_QUEUE_PREFIX, testConfig, uniqueSuffix, type ScratchDatabase } from './stack';

export interface CaptureHarnessOptions {
  engine: 'postgres' | 'mysql';
  /** [table, partition field, other settings] onboarded with precombine field updated_at. */
  tables: (readonly [string, string, Partial<TableDefinitionInput>?])[];
  /** Also a scratch processed bucket and a Spark worker, for the lake tests. */
  lake?: boolean;
  /** false: the test runs the spark queue's worker itself (e.g. as a process it kills). */
  sparkInProcess?: boolean;
  /** Another harness's raw bucket, to write beside its source (the raw zone is shared by every source). */
  rawBucket?: string;
}

let runtimeInstalled = false;

export class CaptureHarness {
  readonly source: string;
  readonly schema: string;
  readonly bucket: string;
  private readonly queuePrefix = `${TEST_QUEUE_PREFIX}${randomBytes(3).toString('hex')}-`;
  readonly processedBucket = `danau-test-lake-${randomBytes(4).toString('hex')}`;
  readonly sourceUrl: string;
  readonly tables: TableRecord[] = [];
  config: ReturnType<typeof testConfig>;
  db!: ScratchDatabase;
  /** lake: a scratch warehouse database too, so model builds never touch the demo's. */
  warehouseDb: ScratchDatabase | undefined;
  controlPlane!: ControlPlane;
  adapters!: Adapters;
  client!: Client;
  private connection: NativeConnection | undefined;
  private workers: Worker[] = [];
  private running: Promise<void[]> | undefined;
  private run = 0;

  constructor(private readonly options: CaptureHarnessOptions) {
    const postgres = options.engine === 'postgres';
    this.source = `${postgres ? 'labs' : 'clinic'}_${uniqueSuffix()}`;
    this.schema = postgres ? 'public' : 'clinic';
    this.bucket = options.rawBucket ?? `danau-test-raw-${randomBytes(4).toString('hex')}`;
    this.sourceUrl = testConfig().environment[postgres ? 'DANAU_SOURCE_LABS_URL' : 'DANAU_SOURCE_CLINIC_URL']!;
    this.config = testConfig(this.overrides());
  }

  /** The configuration this harness's workers use (a child worker process gets it as its environment). */
  workerEnvironment(): Record<string, string> {
    return { DANAU_CONTROL_DATABASE_URL: this.db.url, ...this.overrides() };
  }

  private overrides(): Record<string, string> {
    return {
      DANAU_RAW_BUCKET: this.bucket,
      // Queues of its own: two harnesses in one test (two sources) each have their own control plane.
      DANAU_TASK_QUEUE_PREFIX: this.queuePrefix,
      ...(this.options.lake ? { DANAU_PROCESSED_BUCKET: this.processedBucket } : {}),
      ...(this.warehouseDb ? { DANAU_WAREHOUSE_DATABASE_URL: this.warehouseDb.url } : {}),
    };
  }

  async start(): Promise<void> {
    // Once per process: a test with two sources starts two harnesses.
    runtimeInstalled ||= (installTemporalRuntime(createLogger('error'), 'error'), true);
    ({ db: this.db, controlPlane: this.controlPlane } = await createScratchControlPlane());
    if (this.options.lake) {
      this.warehouseDb = await createScratchDatabase('danau_test_wh');
      this.config = testConfig(this.overrides());
    }
    const config = testConfig({ DANAU_CONTROL_DATABASE_URL: this.db.url, ...this.overrides() });
    this.adapters = createAdapters(config);
    if (!this.options.rawBucket) await this.adapters.s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
    if (this.options.lake) await this.adapters.s3.send(new CreateBucketCommand({ Bucket: this.processedBucket }));
    const postgres = this.options.engine === 'postgres';
    await this.controlPlane.upsertSource(
      { name: this.source, engine: this.options.engine, database: postgres ? 'labs' : 'clinic', connectionSecret: postgres ? 'DANAU_SOURCE_LABS_URL' : 'DANAU_SOURCE_CLINIC_URL', description: 'test' },
      'test',
    );
    for (const [table, partitionField, settings] of this.options.tables) this.tables.push(await this.onboard(table, partitionField, true, settings));
    this.connection = await NativeConnection.connect({ address: config.temporal.address });
    this.workers = await createWorkers({ config, connection: this.connection, adapters: this.adapters, queues: this.options.lake && this.options.sparkInProcess !== false ? ['control', 'io', 'spark'] : ['control', 'io'] });
    this.running = Promise.all(this.workers.map((w) => w.run()));
    this.client = await connectClient(config);
  }

  /** Onboards one more table of the source, reading its definition from the live catalog. */
  async onboard(table: string, partitionField: string, enabled = true, settings: Partial<TableDefinitionInput> = {}): Promise<TableRecord> {
    const catalog = this.options.engine === 'postgres' ? new PostgresSource(this.sourceUrl) : new MysqlSource(this.sourceUrl);
    try {
      const def = parseTableDefinition({ source: this.source, schema: this.schema, table, precombineField: 'updated_at', partitionField, enabled, ...settings });
      const check = checkAgainstSource(def, this.options.engine, (await catalog.describeTable(this.schema, table))!);
      return (await this.controlPlane.recordTable(def, check.primaryKey, check.columns, 'test')).table;
    } finally {
      await catalog.close();
    }
  }

  /** Runs one capture window to completion (a window that keeps failing fails the test). */
  async capture(input: Partial<CaptureSourceInput> = {}): Promise<CaptureStatus> {
    return (await this.client.workflow.execute('captureSource', {
      taskQueue: this.config.temporal.taskQueues.control,
      workflowId: this.nextId(WorkflowId.captureSource(this.source)),
      workflowExecutionTimeout: '2 minutes',
      args: [{ source: this.source, maxWindows: 1, windowSeconds: 1, ...input }],
    })) as CaptureStatus;
  }

  /** A fresh workflow id under `base`, so each run in a suite is its own. */
  nextId(base: string): string {
    return `${base}/${++this.run}`;
  }

  /** Replaying the raw files reproduces every onboarded table exactly, and the files chain. */
  async assertRawZoneMatchesSource(tables: TableRecord[] = this.tables): Promise<void> {
    for (const t of tables) {
      const replayed = await replayRawTable(this.adapters.s3, this.bucket, rawTableOf(t), t.columns, t.primaryKey);
      const read = this.options.engine === 'postgres' ? readPostgresTable : readMysqlTable;
      const actual = await read(this.sourceUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
      assert.equal(replayed.size, actual.size, `${t.tableName}: row count`);
      for (const [key, row] of actual) assert.deepEqual(replayed.get(key), row, `${t.tableName} row ${key}`);
      const infos = [];
      for (const key of await listRawKeys(this.adapters.s3, this.bucket, rawTableOf(t))) {
        infos.push(await readRawFileInfo(key, await getBytes(this.adapters.s3, this.bucket, key)));
      }
      const continuity = checkContinuity(t.tableName, infos);
      assert.ok(continuity.ok, continuity.message);
    }
  }

  /** Tears down what exists, even after a half-finished start. */
  async stop(): Promise<void> {
    this.workers.forEach((w) => w.shutdown());
    await this.running;
    if (this.options.engine === 'postgres') {
      const admin = new pg.Client({ connectionString: this.sourceUrl });
      await admin.connect();
      await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [`danau_${this.source}`]);
      await admin.query(`DROP PUBLICATION IF EXISTS danau_${this.source}`);
      await admin.end();
    }
    if (this.adapters) {
      await emptyBucket(this.adapters.s3, this.bucket);
      if (this.options.lake) await emptyBucket(this.adapters.s3, this.processedBucket);
      await this.adapters.close();
    }
    await this.connection?.close();
    await this.client?.connection.close();
    await this.controlPlane?.close();
    await this.db?.drop();
    await this.warehouseDb?.drop();
  }
}

async function emptyBucket(s3: Adapters['s3'], bucket: string): Promise<void> {
  for (;;) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket })).catch(() => null);
    const objects = (listed?.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (objects.length === 0) return;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  }
}
