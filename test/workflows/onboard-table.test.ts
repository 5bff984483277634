// onboardTable on the real Temporal server (test namespace), real workers, the real source
// databases, and a scratch control plane.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ErrorType } from '../../lib/common/errors';
import { SearchAttribute, WorkflowId } from '../../lib/common/temporal';
import type { ControlPlane } from '../../lib/control-plane/store';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import { connectClient, explainFailure } from '../../lib/temporal/client';
import type { OnboardTableInput, OnboardTableResult } from '../../workflows/onboardTable';
import { createAdapters, createWorkers, type Adapters } from '../../workers/workers';
import { createScratchControlPlane, testConfig, uniqueSuffix, type ScratchDatabase } from '../support/stack';

describe('onboardTable workflow', () => {
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
    ({ db, controlPlane } = await createScratchControlPlane());
    await controlPlane.upsertSource({ name: 'clinic', engine: 'mysql', database: 'clinic', connectionSecret: 'DANAU_SOURCE_CLINIC_URL', description: '' }, 'test');
    await controlPlane.upsertSource({ name: 'labs', engine: 'postgres', database: 'labs', connectionSecret: 'DANAU_SOURCE_LABS_URL', description: '' }, 'test');
    await controlPlane.upsertSource({ name: 'broken', engine: 'postgres', database: 'x', connectionSecret: 'DANAU_TEST_UNSET_VARIABLE', description: '' }, 'test');
    const config = testConfig({ DANAU_CONTROL_DATABASE_URL: db.url });
    connection = await NativeConnection.connect({ address: config.temporal.address });
    adapters = createAdapters(config);
    [worker] = (await createWorkers({ config, connection, adapters, queues: ['control'] })) as [Worker];
    running = worker.run();
    client = await connectClient(config);
  });

  // Each step guarded: when set-up failed half-way, tear down what exists and keep its error visible.
  after(async () => {
    worker?.shutdown();
    await running;
    await adapters?.close();
    await connection?.close();
    await client?.connection.close();
    await controlPlane?.close();
    await db?.drop();
  });

  const start = (input: OnboardTableInput, label = '') =>
    client.workflow.start('onboardTable', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: `${WorkflowId.onboardTable(input)}/${suffix}${label}`,
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [input],
    });

  const failureOf = async (input: OnboardTableInput, label: string) => {
    const handle = await start(input, label);
    try {
      await handle.result();
    } catch (err) {
      assert.ok(err instanceof WorkflowFailedError, `expected a failed workflow, got ${String(err)}`);
      return explainFailure(err);
    }
    assert.fail('the workflow should have failed');
  };

  const appointments: OnboardTableInput = {
    source: 'clinic',
    schema: 'clinic',
    table: 'appointments',
    precombineField: 'updated_at',
    partitionField: 'appointment_at',
    hudiTableType: 'MERGE_ON_READ',
    actor: 'onboard-test',
  };

  it('checks a MariaDB table against the source and records it with an audit row', async () => {
    const handle = await start(appointments);
    const result = (await handle.result()) as OnboardTableResult;
    assert.equal(result.outcome, 'created');
    assert.equal(result.table, 'clinic.clinic.appointments');
    assert.deepEqual(result.primaryKey, ['appointment_id']);
    assert.equal(result.settings.hudiTableType, 'MERGE_ON_READ');
    assert.ok(result.columns.some((c) => c.name === 'fee' && c.lakeType === 'decimal(12,2)'));

    const row = await controlPlane.getTable('clinic', 'clinic', 'appointments');
    assert.equal(row?.tableId, result.tableId);
    const audit = await controlPlane.auditTrail('table:clinic.clinic.appointments');
    assert.deepEqual(audit.map((a) => [a.action, a.actor]), [['table.created', 'onboard-test']]);

    const description = await handle.describe();
    assert.deepEqual(description.typedSearchAttributes.get(SearchAttribute.table), 'clinic.clinic.appointments');
    assert.deepEqual(description.typedSearchAttributes.get(SearchAttribute.layer), 'control');
  });

  it('is harmless to run twice: the second run records nothing', async () => {
    const again = (await (await start(appointments, '-again')).result()) as OnboardTableResult;
    assert.equal(again.outcome, 'unchanged');
    assert.equal((await controlPlane.auditTrail('table:clinic.clinic.appointments')).length, 1);
  });

  it('joins a run already going instead of starting a second one', async () => {
    const input = { ...appointments, table: 'doctors', partitionField: 'joined_on' };
    const [a, b] = await Promise.all([start(input, '-join'), start(input, '-join')]);
    assert.equal(a.firstExecutionRunId, b.firstExecutionRunId);
    await a.result();
  });

  it('onboards a PostgreSQL table', async () => {
    const result = (await (
      await start({ source: 'labs', schema: 'public', table: 'lab_results', precombineField: 'updated_at', partitionField: 'resulted_at' })
    ).result()) as OnboardTableResult;
    assert.equal(result.sourceEngine, 'postgres');
    assert.ok(result.columns.some((c) => c.name === 'raw_message' && c.lakeType === 'binary'));
  });

  it('refuses a definition that contradicts the source, naming table and field, and writes nothing', async () => {
    const failure = await failureOf(
      { source: 'clinic', schema: 'clinic', table: 'patients', precombineField: 'no_such_column', partitionField: 'full_name' },
      '-bad',
    );
    assert.equal(failure.type, ErrorType.InvalidTableDefinition);
    assert.match(failure.message, /table clinic\.clinic\.patients was not onboarded/);
    assert.match(failure.message, /precombineField: column no_such_column does not exist/);
    assert.match(failure.message, /partitionField: column full_name is varchar\(150\)/);
    assert.equal(await controlPlane.getTable('clinic', 'clinic', 'patients'), null);
    assert.equal((await controlPlane.auditTrail('table:clinic.clinic.patients')).length, 0);
  });

  it('refuses malformed input at once', async () => {
    const failure = await failureOf(
      { source: 'clinic', schema: 'clinic', table: 'patients', precombineField: 'updated_at', partitionField: 'registered_at', hudiTableType: 'COW' as 'COPY_ON_WRITE' },
      '-malformed',
    );
    // Refused at the door, by the table definition's own schema (lib/common/workflow-inputs.ts).
    assert.equal(failure.type, ErrorType.InvalidWorkflowInput);
    assert.match(failure.message, /^onboardTable input: hudiTableType: must be COPY_ON_WRITE or MERGE_ON_READ/);
  });

  it('refuses a MySQL schema other than the source database', async () => {
    const failure = await failureOf({ source: 'clinic', schema: 'mysql', table: 'user', precombineField: 'c', partitionField: 'd' }, '-otherdb');
    assert.equal(failure.type, ErrorType.InvalidTableDefinition);
    assert.match(failure.message, /table clinic\.mysql\.user: schema: source clinic reads MySQL database clinic; schema must be clinic/);
  });

  it('names an unknown source, a missing table, and a source without its connection variable', async () => {
    const unknown = await failureOf({ source: 'nosuch', schema: 'a', table: 'b', precombineField: 'c', partitionField: 'd' }, '-unknown');
    assert.equal(unknown.type, ErrorType.UnknownSource);
    assert.match(unknown.message, /table nosuch\.a\.b: source: no source named nosuch is registered/);

    const missing = await failureOf({ source: 'clinic', schema: 'clinic', table: 'nurses', precombineField: 'c', partitionField: 'd' }, '-missing');
    assert.equal(missing.type, ErrorType.SourceTableNotFound);
    assert.match(missing.message, /clinic\.nurses does not exist in source clinic/);

    const broken = await failureOf({ source: 'broken', schema: 'public', table: 't', precombineField: 'c', partitionField: 'd' }, '-broken');
    assert.equal(broken.type, ErrorType.SourceMisconfigured);
    assert.match(broken.message, /^table broken\.public\.t: source broken: environment variable DANAU_TEST_UNSET_VARIABLE is not set in the worker's environment/);
  });
});
