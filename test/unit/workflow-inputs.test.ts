// The workflow input schemas (lib/common/workflow-inputs.ts): every workflow the worker runs has one;
// each accepts a valid input and refuses a wrong field with a non-retryable InvalidWorkflowInput
// failure that names the workflow and the field, never the value. The CLI and the schedules build
// their inputs through the same schemas, so they refuse the same input with the same message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/common/errors';
import { parseWorkflowInput, workflowInputSchemas, type WorkflowInput, type WorkflowName } from '../../lib/common/workflow-inputs';
import { platformScheduleArgs } from '../../lib/schedules/sync';
import { UsageError, workflowArgs } from '../../scripts/cli/context';
import * as workflows from '../../workflows';

const table = 'clinic.clinic.patients';

/** A valid input per workflow; typed, so a workflow without a schema or a sample does not compile. */
const valid: { [N in WorkflowName]: WorkflowInput<N> } = {
  onboardTable: { source: 'clinic', schema: 'clinic', table: 'patients', precombineField: 'updated_at', partitionField: 'registered_at', hudiTableType: 'MERGE_ON_READ', actor: 'test' },
  checkStack: { spark: false },
  captureSource: { source: 'clinic', windowSeconds: 1, maxChanges: 25, maxWindows: null, totals: { windows: 1, changes: 2, files: 1, perTable: { [table]: { changes: 2, files: 1 } } }, paused: false },
  checkIngestion: { table },
  reconcileTable: { table },
  checkSource: { source: 'pharmacy', definition: { engine: 'postgres', databaseName: 'pharmacy', connectionSecret: 'DANAU_SOURCE_PHARMACY_URL' } },
  syncDmsTask: { source: 'clinic', replicationInstanceArn: 'arn:a', sourceEndpointArn: 'arn:b', targetEndpointArn: 'arn:c', migrationType: 'cdc', desiredState: 'stopped', pollSeconds: 1, waitMinutes: 1 },
  upsertLakeTable: { table, maxBatchBytes: 1024, maxBatchFiles: 10, maxBatches: 2, jobHeartbeatTimeoutSeconds: 15 },
  buildModels: { models: ['dim_patient'], refreshReporting: false },
  checkModels: { models: ['dim_patient'] },
  archivePartition: { table, partition: '2024-04', level: 'month', requireApproval: true, approvalTimeoutHours: 0.5, deepVerify: true, deleteBatchKeys: 100, heartbeatTimeoutSeconds: 5, prices: { currency: 'EUR', storagePerGbMonth: { STANDARD_IA: 0.01 } } },
  archiveTables: { tables: [table], asOf: '2024-05-15T00:00:00Z', dryRun: true, maxPartitions: 5, concurrency: 1, compressionRatio: 0.9 },
  recoverTable: { table, startDate: '2024-03-04', endDate: '2024-03-06', targetPrefix: '', concurrency: 16 },
  runTablePipeline: { table, maxBatches: 3, freshnessDeadlineMinutes: 0.04 },
  reprocessFailedEvents: { limit: 10, maxAttempts: 2, backoffSeconds: 0, concurrency: 1, eventIds: [1, 2] },
  replayLakeEvent: { table, eventId: 7, attempt: 0, errorType: 'UncastableValue', dataRef: { uri: 's3://b/k', batchId: 'b1', rows: 3 } },
  backfillTable: { table, startDate: '2024-03-04', endDate: '2024-03-06', recover: false, waitPollSeconds: 2 },
  reapplyLakeRange: { table, startDate: '2024-03-04', endDate: '2024-03-06', backfillId: 'run-1', includeLoad: true },
};

/** Per workflow: its valid input with one field wrong, and the start of the message that must name it. */
const wrong: Record<WorkflowName, [input: unknown, message: string]> = {
  onboardTable: [{ ...valid.onboardTable, hudiTableType: 'COW' }, 'onboardTable input: hudiTableType: must be COPY_ON_WRITE or MERGE_ON_READ'],
  checkStack: [{ spark: 'no' }, 'checkStack input: spark: expected true or false, got a string'],
  captureSource: [{ source: 'clinic', windowSecond: 5 }, 'captureSource input: windowSecond: unknown field'],
  checkIngestion: [{ table: ['clinic', 'clinic', 'patients'] }, 'checkIngestion input: table: expected a string like source.schema.table, got an array'],
  reconcileTable: [{}, 'reconcileTable input: table: missing: expected a string like source.schema.table'],
  checkSource: [{ source: 'pharmacy', definition: { engine: 'oracle', databaseName: 'p', connectionSecret: 'X' } }, 'checkSource input: definition.engine: expected mysql or postgres'],
  syncDmsTask: [{ ...valid.syncDmsTask, desiredState: 'paused' }, 'syncDmsTask input: desiredState: expected running or stopped'],
  upsertLakeTable: [{ table: 5 }, 'upsertLakeTable input: table: expected a string like source.schema.table, got a number'],
  buildModels: [{ models: 'dim_patient' }, 'buildModels input: models: expected a list of model names, got a string'],
  checkModels: [{ models: [''] }, 'checkModels input: models[0]: expected a model name'],
  archivePartition: [{ table, partition: '2024-04-05', prices: { storagePerGbMonth: { STANDARD: '0.1' } } }, 'archivePartition input: prices.storagePerGbMonth.STANDARD: expected a number of 0 or more'],
  archiveTables: [{ tables: [table, 'patients'] }, 'archiveTables input: tables[1]: expected a string like source.schema.table'],
  recoverTable: [{ table, startDate: '2024-02-30', endDate: '2024-03-01' }, 'recoverTable input: startDate: expected a date YYYY-MM-DD'],
  runTablePipeline: [{ table: 'clinic.patients' }, 'runTablePipeline input: table: expected a string like source.schema.table'],
  reprocessFailedEvents: [{ eventIds: [3, 0] }, 'reprocessFailedEvents input: eventIds[1]: expected a positive integer'],
  replayLakeEvent: [{ ...valid.replayLakeEvent, dataRef: null }, 'replayLakeEvent input: dataRef: expected an object {uri, batchId, rows}, got null'],
  backfillTable: [{ table, startDate: 20240304, endDate: '2024-03-06' }, 'backfillTable input: startDate: expected a date YYYY-MM-DD, got a number'],
  reapplyLakeRange: [{ table, startDate: '2024-03-04', endDate: '2024-03-06', maxBatchFiles: 2.5, backfillId: 'x' }, 'reapplyLakeRange input: maxBatchFiles: expected a positive integer'],
};

function refusal(fn: () => unknown): ApplicationFailure {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('the input was accepted');
}

describe('workflow input schemas', () => {
  it('cover every workflow the worker runs, and nothing else', () => {
    assert.deepEqual(Object.keys(workflowInputSchemas).sort(), Object.keys(workflows).sort());
  });

  for (const name of Object.keys(workflowInputSchemas) as WorkflowName[]) {
    it(`${name}: accepts a valid input and refuses a wrong field, naming it`, () => {
      assert.doesNotThrow(() => parseWorkflowInput(name, valid[name]));
      const [input, message] = wrong[name];
      const failure = refusal(() => parseWorkflowInput(name, input));
      assert.equal(failure.type, ErrorType.InvalidWorkflowInput);
      assert.equal(failure.nonRetryable, true);
      assert.ok(failure.message.startsWith(message), `${failure.message}\n  should start with\n${message}`);
    });
  }

  it('passes a valid input through unchanged (only onboardTable fills in defaults)', () => {
    assert.deepEqual(parseWorkflowInput('upsertLakeTable', valid.upsertLakeTable), valid.upsertLakeTable);
    assert.deepEqual(parseWorkflowInput('captureSource', valid.captureSource), valid.captureSource);
    assert.equal(parseWorkflowInput('onboardTable', valid.onboardTable).enabled, true);
  });

  it('keeps what continue-as-new carries in capture totals beyond the known counts', () => {
    const totals = { ...valid.captureSource.totals!, stoppedTables: ['x'] };
    assert.deepEqual(parseWorkflowInput('captureSource', { source: 'clinic', totals }).totals, totals);
  });

  it('refuses what is not an object, and names every wrong field at once, never their values', () => {
    assert.match(refusal(() => parseWorkflowInput('runTablePipeline', null)).message, /^runTablePipeline input: expected an object, got null/);
    const secret = 'Jane Roe 1985-04-12';
    const failure = refusal(() => parseWorkflowInput('backfillTable', { table: secret, startDate: secret, endDate: '2024-03-06', recover: 'yes' }));
    assert.match(failure.message, /table: .*; startDate: .*; recover: expected true or false/);
    assert.ok(!failure.message.includes(secret), failure.message);
  });

  it('the CLI and the schedules refuse the same input with the same message', () => {
    const [input, message] = wrong.upsertLakeTable;
    assert.throws(
      () => workflowArgs('upsertLakeTable', input as WorkflowInput<'upsertLakeTable'>),
      (err: unknown) => err instanceof UsageError && err.message.startsWith(message),
    );
    const scheduled = refusal(() => platformScheduleArgs('reprocess-failed-events', { maxAttempts: '3' }));
    assert.equal(scheduled.type, ErrorType.InvalidWorkflowInput);
    assert.match(scheduled.message, /^schedule reprocess-failed-events: reprocessFailedEvents input: maxAttempts: expected a positive integer/);
    assert.deepEqual(platformScheduleArgs('archive-tables', { dryRun: true }), [{ dryRun: true }]);
  });
});
