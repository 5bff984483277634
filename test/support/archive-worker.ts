// A worker process for the archive crash test: the archive workflows on the control queue and the
// archive activities on the io queue, from the environment the test passes (scratch database and
// buckets, the test's queue prefix, and ARCHIVE_WORKFLOW_BUNDLE: the workflow code bundled once by
// the test, so a restart takes a second rather than a bundling). The test SIGKILLs it at random;
// the short sticky-queue timeout hands a dead worker's workflow tasks to the next one at once.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createArchiveActivities } from '../../activities/archive';
import { loadConfig } from '../../lib/config';
import { ControlPlane } from '../../lib/control-plane/store';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import { createS3Client } from '../../lib/s3';

async function main(): Promise<void> {
  const config = loadConfig();
  installTemporalRuntime(createLogger('error'), 'error');
  const bundle = process.env.ARCHIVE_WORKFLOW_BUNDLE;
  if (!bundle) throw new Error('ARCHIVE_WORKFLOW_BUNDLE is not set');
  const controlPlane = ControlPlane.connect(config.controlDatabaseUrl);
  const s3 = createS3Client(config);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const activities = createArchiveActivities({ config, controlPlane, s3, settings: config.archive });
  const workers = await Promise.all([
    Worker.create({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueues.control, workflowBundle: { codePath: bundle }, stickyQueueScheduleToStartTimeout: '1 second' }),
    Worker.create({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueues.io, activities, maxConcurrentActivityTaskExecutions: 4 }),
  ]);
  process.stdout.write('archive worker ready\n');
  await Promise.all(workers.map((w) => w.run()));
  await connection.close();
  s3.destroy();
  await controlPlane.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`archive worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
