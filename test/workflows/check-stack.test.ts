// checkStack through all three workers: the control plane answers, every zone bucket stores and
// reports STANDARD_IA, and Spark writes a Hudi table to the processed zone over s3a:// and reads it
// back. Real Temporal, PostgreSQL, S3 server and Spark.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { WorkflowId } from '../../lib/common/temporal';
import type { ControlPlane } from '../../lib/control-plane/store';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import { connectClient } from '../../lib/temporal/client';
import type { CheckStackResult } from '../../workflows/checkStack';
import { createAdapters, createWorkers, type Adapters } from '../../workers/workers';
import { createScratchControlPlane, testConfig, uniqueSuffix, type ScratchDatabase } from '../support/stack';

describe('checkStack workflow', () => {
  let db: ScratchDatabase;
  let controlPlane: ControlPlane;
  let connection: NativeConnection;
  let adapters: Adapters;
  let workers: Worker[];
  let running: Promise<void[]>;
  let client: Client;

  before(async () => {
    installTemporalRuntime(createLogger('error'), 'error');
    ({ db, controlPlane } = await createScratchControlPlane());
    const config = testConfig({ DANAU_CONTROL_DATABASE_URL: db.url });
    connection = await NativeConnection.connect({ address: config.temporal.address });
    adapters = createAdapters(config);
    workers = await createWorkers({ config, connection, adapters });
    running = Promise.all(workers.map((w) => w.run()));
    client = await connectClient(config);
  });

  // Each step guarded: when set-up failed half-way, tear down what exists and keep its error visible.
  after(async () => {
    workers?.forEach((w) => w.shutdown());
    await running;
    await adapters?.close();
    await connection?.close();
    await client?.connection.close();
    await controlPlane?.close();
    await db?.drop();
  });

  it('probes every part through its own queue, including a Hudi write and read on local S3', async () => {
    const result = (await client.workflow.execute('checkStack', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: WorkflowId.checkStack(uniqueSuffix()),
      args: [{}],
    })) as CheckStackResult;

    assert.ok(result.controlPlane.schemaVersion >= 1);
    assert.deepEqual(
      result.objectStore.map((o) => o.storageClass),
      ['STANDARD_IA', 'STANDARD_IA', 'STANDARD_IA'],
    );
    assert.notEqual(result.spark, 'skipped');
    if (result.spark === 'skipped') return;
    // The smoke job prints a JSON summary of what it read back after its upsert and delete.
    const summary = result.spark.summary as { ok?: boolean } | null;
    assert.ok(summary && summary.ok === true, `unexpected smoke summary: ${JSON.stringify(summary)}`);
  });
});
