// The worker entry point: validate configuration, apply control-plane migrations, build adapters,
// then run one worker per task queue until SIGINT/SIGTERM.
//   node dist/workers/main.js [--queues control,spark,io]
import { NativeConnection } from '@temporalio/worker';
import pg from 'pg';
import { ConfigError, loadConfig } from '../lib/config';
import { TASK_QUEUE_ROLES, type TaskQueueName } from '../lib/common/temporal';
import { migrate } from '../lib/control-plane/migrate';
import { createLogger, installTemporalRuntime, serializeError } from '../lib/logging';
import { createMetricsRegistry } from '../lib/metrics/platform';
import { startMetricsServer, type MetricsServer } from '../lib/metrics/server';
import { findLegacyRawFiles, legacyLayoutMessage } from '../lib/raw-zone/legacy';
import { uploadJobFiles } from '../lib/spark/deploy';
import { createAdapters, createWorkers } from './workers';

function parseQueues(argv: string[]): TaskQueueName[] | undefined {
  const i = argv.indexOf('--queues');
  const value = i >= 0 ? argv[i + 1] : process.env.DANAU_WORKER_QUEUES;
  if (!value) return undefined;
  const names = value.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(TASK_QUEUE_ROLES as readonly string[]).includes(n)) throw new ConfigError([`--queues: unknown queue ${n} (expected ${TASK_QUEUE_ROLES.join(', ')})`]);
  }
  return names as TaskQueueName[];
}

async function main(): Promise<void> {
  const config = loadConfig();
  const queues = parseQueues(process.argv.slice(2));
  const logger = createLogger(config.logLevel, 'danau-worker');
  // The SDK's exporter listens on an internal port; the worker's endpoint serves its text with the platform's.
  installTemporalRuntime(logger, config.logLevel, config.sdkMetricsPort);

  const migrationPool = new pg.Pool({ connectionString: config.controlDatabaseUrl, max: 1 });
  try {
    const applied = await migrate(migrationPool);
    if (applied.length) logger.info({ applied }, 'applied control-plane migrations');
  } finally {
    await migrationPool.end();
  }

  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const adapters = createAdapters(config);
  let metricsServer: MetricsServer | undefined;
  try {
    // A raw zone of the layout before `<source>/` prefixes: new files would land beside the old ones
    // and the lake would read only half. Refuse, saying how to move it.
    const legacy = await findLegacyRawFiles(adapters.s3, config.buckets.raw, await adapters.controlPlane.listTables(), { firstOnly: true });
    if (legacy.length > 0) throw new ConfigError([legacyLayoutMessage(config.buckets.raw, legacy)]);
    if (adapters.spark.kind === 'emr') logger.info({ jobs: await uploadJobFiles(adapters.s3, config.emr.codeUri) }, 'job files in place for EMR');
    const workers = await createWorkers({ config, connection, adapters, queues });
    if (config.metricsPort > 0) {
      // Platform metrics are read from the control plane at scrape time: the process that runs the
      // control queue serves them, so a deployment scrapes them once however many workers it runs.
      const platform = !queues || queues.includes('control');
      const metrics = createMetricsRegistry({
        source: platform ? adapters.controlPlane : undefined,
        onError: (err) => logger.warn({ err: serializeError(err) }, 'metrics: could not read the control plane'),
      });
      metricsServer = await startMetricsServer({
        port: config.metricsPort,
        metrics,
        sdkMetricsUrl: `http://127.0.0.1:${config.sdkMetricsPort}/metrics`,
        onError: (part, err) => logger.warn({ part, err: serializeError(err) }, 'metrics: could not read a part of the scrape'),
      });
      logger.info({ metrics: metricsServer.url, platformMetrics: platform }, 'metrics endpoint listening');
    }
    logger.info(
      { pid: process.pid, namespace: config.temporal.namespace, taskQueues: workers.map((w) => w.options.taskQueue), metrics: metricsServer?.url ?? null },
      'workers started',
    );
    // Worker.run() handles SIGINT/SIGTERM itself: it stops polling, lets running tasks finish, then
    // resolves. If one worker fails, stop the others before the adapters they use are closed.
    const runs = workers.map((w) =>
      w.run().catch((err: unknown) => {
        for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
        throw err;
      }),
    );
    const outcomes = await Promise.allSettled(runs);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    logger.info('workers stopped');
  } finally {
    await metricsServer?.close();
    await adapters.close();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
