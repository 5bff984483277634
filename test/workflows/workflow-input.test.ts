// Runs started by hand with a wrong input (`temporal workflow start --type upsertLakeTable --input
// '{"table": 5}'`: by name, untyped) close Failed at once with a non-retryable InvalidWorkflowInput
// naming the field, instead of leaving a workflow task that fails for ever (issue 12, item 4).
// One control worker against the real Temporal server and a scratch control plane; no Spark.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ErrorType } from '../../lib/common/errors';
import type { ControlPlane } from '../../lib/control-plane/store';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import { connectClient } from '../../lib/temporal/client';
import { createAdapters, createWorkers, type Adapters } from '../../workers/workers';
import { createScratchControlPlane, testConfig, uniqueSuffix, type ScratchDatabase } from '../support/stack';

/** Each: a workflow type, a wrong input as the `temporal` CLI would send it, and what the failure must say. */
const cases: { type: string; input: unknown; message: RegExp }[] = [
  { type: 'upsertLakeTable', input: { table: 5 }, message: /^upsertLakeTable input: table: expected a string like source\.schema\.table/ },
  { type: 'runTablePipeline', input: { table: 'clinic.patients' }, message: /^runTablePipeline input: table: expected a string like source\.schema\.table/ },
  { type: 'archivePartition', input: { table: 'clinic.clinic.patients', partition: 20240405 }, message: /^archivePartition input: partition: expected a day YYYY-MM-DD or a month YYYY-MM/ },
  { type: 'backfillTable', input: { table: 'clinic.clinic.patients', startDate: '2024-03-04', endDate: '2024-03-06', recover: 'no' }, message: /^backfillTable input: recover: expected true or false/ },
  { type: 'reprocessFailedEvents', input: { limit: 'ten' }, message: /^reprocessFailedEvents input: limit: expected a positive integer/ },
  { type: 'captureSource', input: { source: 'clinic', windowSecond: 5 }, message: /^captureSource input: windowSecond: unknown field/ },
  { type: 'onboardTable', input: { source: 'clinic', schema: 'clinic', table: 7, precombineField: 'updated_at', partitionField: 'registered_at' }, message: /^onboardTable input: table: must be a string/ },
];

describe('workflow input checked at the door', () => {
  let db: ScratchDatabase;
  let controlPlane: ControlPlane;
  let connection: NativeConnection;
  let adapters: Adapters;
  let worker: Worker;
  let running: Promise<void>;
  let client: Client;
  const suffix = uniqueSuffix();

  before(async () => {
    installTemporalRuntime(createLogger('error'), 'error');
    // A scratch control plane: were a check missing, the run's activities must not touch the demo's.
    ({ db, controlPlane } = await createScratchControlPlane());
    const config = testConfig({ DANAU_CONTROL_DATABASE_URL: db.url });
    connection = await NativeConnection.connect({ address: config.temporal.address });
    adapters = createAdapters(config);
    [worker] = (await createWorkers({ config, connection, adapters, queues: ['control'] })) as [Worker];
    running = worker.run();
    client = await connectClient(config);
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await adapters?.close();
    await connection?.close();
    await client?.connection.close();
    await controlPlane?.close();
    await db?.drop();
  });

  it('fails each run at once, not retryable, naming the field, with no failed workflow task', async () => {
    const results = await Promise.allSettled(
      cases.map(async ({ type, input, message }) => {
        const workflowId = `bad-input/${type}/${suffix}`;
        const handle = await client.workflow.start(type, { taskQueue: testConfig().temporal.taskQueues.control, workflowId, args: [input] });
        // A run whose workflow task fails is retried for ever and never closes: wait a bounded time.
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          handle.result().then(
            () => 'completed' as const,
            (err: unknown) => err,
          ),
          new Promise<'still running'>((r) => (timer = setTimeout(() => r('still running'), 30_000))),
        ]);
        clearTimeout(timer);
        if (outcome === 'still running') await handle.terminate('test: the run did not close on its bad input');
        assert.ok(outcome instanceof WorkflowFailedError, `${type}: expected the run to fail, it is ${String(outcome)}`);
        const failure = outcome.cause;
        assert.ok(failure instanceof ApplicationFailure, `${type}: expected an ApplicationFailure, got ${String(failure)}`);
        assert.equal(failure.type, ErrorType.InvalidWorkflowInput, `${type}: ${failure.message}`);
        assert.equal(failure.nonRetryable, true);
        assert.match(failure.message, message);
        assert.equal((await handle.describe()).status.name, 'FAILED');
        // It failed the execution, not its task: no workflow task was retried, and no activity ran.
        const events = (await handle.fetchHistory()).events ?? [];
        assert.equal(events.filter((e) => e.workflowTaskFailedEventAttributes).length, 0, `${type}: a workflow task failed`);
        assert.equal(events.filter((e) => e.activityTaskScheduledEventAttributes).length, 0, `${type}: an activity was scheduled`);
      }),
    );
    // Every case's problem at once, not only the first.
    const problems = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
    assert.deepEqual(problems, []);
  });
});
