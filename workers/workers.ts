// Builds the adapters once from validated configuration and creates one Temporal worker per task
// queue. Used by the worker entry point and by the workflow tests, so both wire the same parts.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { createAlertActivities } from '../activities/alerts';
import { createArchiveActivities } from '../activities/archive';
import { WebhookAlerter } from '../lib/alerts/webhook';
import { createControlPlaneActivities } from '../activities/control-plane';
import { createDmsActivities } from '../activities/dms';
import { createIngestionActivities } from '../activities/ingestion';
import { createLakeActivities } from '../activities/lake';
import { createLakeReplayActivity } from '../activities/lake/replay';
import { createLakeBackfillActivities } from '../activities/lake/backfill';
import { createModelPullActivity, createWarehouseActivities } from '../activities/warehouse';
import { createPipelineActivities } from '../activities/pipeline';
import { activityTableLogAttributes, workflowInterceptorModules } from './interceptors';
import { createPlatformProbeActivities } from '../activities/platform';
import type { DanauConfig } from '../lib/config';
import { TASK_QUEUE_ROLES, type TaskQueueName } from '../lib/common/temporal';
import { ControlPlane } from '../lib/control-plane/store';
import { createS3Client } from '../lib/s3';
import { SourceConnections } from '../lib/sources';
import { createSecretProvider } from '../lib/secrets';
import { CaptureConnections } from '../lib/capture';
import { DmsTaskManager } from '../lib/capture/dms-task';
import { createDmsClient, createEmrClient, createRedshiftDataClient } from '../lib/aws/clients';
import { PostgresWarehouse } from '../lib/warehouse/postgres';
import { RedshiftDataWarehouse } from '../lib/warehouse/redshift-data';
import type { Warehouse } from '../lib/warehouse/warehouse';
import { EmrStepRunner } from '../lib/spark/emr';
import { SparkConnectRunner } from '../lib/spark/connect';
import { LocalSparkRunner, type SparkRunner } from '../lib/spark/runner';

export interface Adapters {
  controlPlane: ControlPlane;
  sources: SourceConnections;
  captures: CaptureConnections;
  s3: ReturnType<typeof createS3Client>;
  /** AWS DMS (production CDC); a local AWS-API endpoint when DANAU_AWS_API_ENDPOINT is set. */
  dms: DmsTaskManager;
  /** Where Spark jobs run: spark-submit on this machine, or EMR steps in production. */
  spark: SparkRunner;
  /** Where models are built: the local PostgreSQL, or Redshift through the Data API. */
  warehouse: Warehouse;
  close(): Promise<void>;
}

export function createAdapters(config: DanauConfig): Adapters {
  const controlPlane = ControlPlane.connect(config.controlDatabaseUrl);
  const secrets = createSecretProvider(config);
  const sources = new SourceConnections(secrets);
  const s3 = createS3Client(config);
  const captures = new CaptureConnections();
  const dmsClient = createDmsClient(config);
  const emrClient = config.emr.clusterId ? createEmrClient(config) : null;
  const warehouse = createWarehouse(config, controlPlane);
  return {
    controlPlane,
    sources,
    captures,
    s3,
    dms: new DmsTaskManager(dmsClient),
    spark:
      emrClient && config.emr.clusterId
        ? new EmrStepRunner({ client: emrClient, clusterId: config.emr.clusterId, codeUri: config.emr.codeUri })
        : config.sparkConnectUrl
          ? new SparkConnectRunner({ url: config.sparkConnectUrl, home: config.home, env: config.environment })
          : new LocalSparkRunner({ home: config.home, env: config.environment }),
    warehouse,
    async close() {
      await warehouse.close();
      s3.destroy();
      dmsClient.destroy();
      emrClient?.destroy();
      await captures.closeAll();
      await sources.closeAll();
      secrets.close();
      await controlPlane.close();
    },
  };
}

function createWarehouse(config: DanauConfig, controlPlane: ControlPlane): Warehouse {
  const redshift = config.warehouse.redshift;
  if (!redshift) return new PostgresWarehouse(config.warehouseDatabaseUrl);
  const target = redshift.workgroup
    ? { workgroupName: redshift.workgroup, database: redshift.database, ...(redshift.secretArn ? { secretArn: redshift.secretArn } : {}) }
    : { clusterIdentifier: redshift.clusterId!, database: redshift.database, ...(redshift.dbUser ? { dbUser: redshift.dbUser } : {}), ...(redshift.secretArn ? { secretArn: redshift.secretArn } : {}) };
  return new RedshiftDataWarehouse({ client: createRedshiftDataClient(config), target, ledger: controlPlane.statementLedger() });
}

export interface WorkerSetOptions {
  config: DanauConfig;
  connection: NativeConnection;
  adapters: Adapters;
  queues?: TaskQueueName[];
}

const prebuiltBundle = path.join(__dirname, '..', 'workflow-bundle.js');

export async function createWorkers({ config, connection, adapters, queues }: WorkerSetOptions): Promise<Worker[]> {
  const probes = createPlatformProbeActivities({ config, controlPlane: adapters.controlPlane, s3: adapters.s3 });
  const control = createControlPlaneActivities({ controlPlane: adapters.controlPlane, sources: adapters.sources });
  const dms = createDmsActivities({ controlPlane: adapters.controlPlane, dms: adapters.dms, rawBucket: config.buckets.raw });
  const pipeline = createPipelineActivities({ controlPlane: adapters.controlPlane });
  const alerts = createAlertActivities({ alerter: new WebhookAlerter({ url: config.alerts.webhookUrl }), store: adapters.controlPlane });
  const lake = createLakeActivities({ config, controlPlane: adapters.controlPlane, s3: adapters.s3, runner: adapters.spark });
  const models = createWarehouseActivities({ config, controlPlane: adapters.controlPlane, s3: adapters.s3, warehouse: adapters.warehouse });
  const replay = createLakeReplayActivity({ config, controlPlane: adapters.controlPlane, s3: adapters.s3, runner: adapters.spark });
  const backfill = createLakeBackfillActivities({ config, controlPlane: adapters.controlPlane, s3: adapters.s3, runner: adapters.spark });
  const pullModelChanges = createModelPullActivity({ config, controlPlane: adapters.controlPlane, s3: adapters.s3 }, adapters.spark);
  const archive = createArchiveActivities({ config, controlPlane: adapters.controlPlane, s3: adapters.s3, settings: config.archive });
  const ingestion = createIngestionActivities({ config, controlPlane: adapters.controlPlane, s3: adapters.s3, captures: adapters.captures, sources: adapters.sources });

  // Production uses the bundle built by `npm run bundle`; development bundles on start.
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = existsSync(prebuiltBundle)
    ? { workflowBundle: { codePath: prebuiltBundle } }
    : { workflowsPath: require.resolve('../workflows') };

  const perQueue: Record<TaskQueueName, Omit<WorkerOptions, 'taskQueue' | 'connection' | 'namespace'>> = {
    control: {
      ...workflowSource,
      activities: { ...control, ...dms, ...pipeline, ...alerts, probeControlPlane: probes.probeControlPlane },
      maxConcurrentActivityTaskExecutions: 20,
    },
    io: {
      activities: { probeObjectStore: probes.probeObjectStore, ...ingestion, planLakeBatch: lake.planLakeBatch, commitLakeBatch: lake.commitLakeBatch, ...models, ...archive, planLakeReapply: backfill.planLakeReapply, commitLakeReapply: backfill.commitLakeReapply, modelsBehindChangelog: backfill.modelsBehindChangelog },
      maxConcurrentActivityTaskExecutions: 4,
    },
    // In the warm engine, jobs of different tables share its cores (fair scheduling) and run at once:
    // most of a small batch is waiting on S3 and on Hudi's commit, not computing. Two batches of one
    // table never do: each table's lake step is one workflow at a time (upsertLakeTable's id), and a
    // backfill waits for the table's step to be free. A spark-submit per job takes the machine's
    // cores: one at a time.
    spark: {
      activities: { runSparkSmoke: probes.runSparkSmoke, runLakeUpsert: lake.runLakeUpsert, ...replay, pullModelChanges, runLakeReapply: backfill.runLakeReapply },
      maxConcurrentActivityTaskExecutions: adapters.spark.kind === 'local' ? 1 : config.sparkConcurrency,
    },
  };

  const wanted = queues ?? [...TASK_QUEUE_ROLES];
  return Promise.all(
    wanted.map((q) =>
      Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueues[q],
        interceptors: { activity: [activityTableLogAttributes], workflowModules: workflowInterceptorModules },
        ...perQueue[q],
      }),
    ),
  );
}
