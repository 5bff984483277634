// Raw zone -> processed zone for one table: the runbook of the seed's scheduled EMR job.
//   1. Plan a batch: the table's raw files not yet consumed (tracked by name, so a file that arrives
//      late for an older day is still found), in consumption order, up to a size limit. A batch that
//      was planned and never committed (a crash) is resumed, not planned again.
//   2. Run the lake job on it (an EMR step, or local spark-submit): typecast, WIB, dedupe, ordering
//      guard, Hudi upsert and deletes, stamped with the batch id.
//   3. Record the Hudi instant, files and row counts, the rows set aside as failed events, and move
//      the table's lake checkpoint, in one transaction.
// Repeat until nothing is left (or maxBatches). Answers `status`; `pause` waits between batches.
import { ActivityCancellationType, condition, defineQuery, defineSignal, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import type { LakeUpsertResult } from '../lib/lake/batches';

export type UpsertLakeTableInput = WorkflowInput<'upsertLakeTable'>;

export interface PlannedLakeBatch {
  batchId: string;
  files: number;
  bytes: number;
  /** An earlier run planned it and did not commit it. */
  resumed: boolean;
}

export interface LakeJobRun {
  runner: 'local' | 'emr' | 'connect';
  attached: boolean;
  logLocation: string;
  elapsedMs: number;
}

export interface LakeBatchOutcome extends PlannedLakeBatch {
  result: LakeUpsertResult;
  run: LakeJobRun;
}

export interface UpsertLakeTableResult {
  table: string;
  batches: LakeBatchOutcome[];
  totals: { files: number; rowsRead: number; rowsUpserted: number; rowsDeleted: number; rowsStale: number; rowsQuarantined: number };
  /** The Hudi instant the table is at after this run (null when nothing was ever written). */
  latestInstant: string | null;
}

export interface LakeStatus {
  table: string;
  paused: boolean;
  current: PlannedLakeBatch | null;
  done: number;
  totals: UpsertLakeTableResult['totals'];
}

export interface LakeActivities {
  planLakeBatch: (input: { table: string; maxBatchBytes?: number; maxBatchFiles?: number }) => Promise<PlannedLakeBatch | null>;
  commitLakeBatch: (input: { table: string; batchId: string; result: LakeUpsertResult; run: LakeJobRun }) => Promise<{ committed: boolean; latestInstant: string | null }>;
}

export interface LakeSparkActivities {
  runLakeUpsert: (input: { table: string; batchId: string }) => Promise<{ result: LakeUpsertResult; run: LakeJobRun }>;
}

export const lakeStatusQuery = defineQuery<LakeStatus>('status');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

export async function upsertLakeTable(input: UpsertLakeTableInput): Promise<UpsertLakeTableResult> {
  input = parseWorkflowInput('upsertLakeTable', input);
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: input.table },
    { key: SearchAttribute.layer, value: 'processed' },
  ]);
  const io = proxyActivities<LakeActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'io'),
    startToCloseTimeout: '10 minutes',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.InvalidTableDefinition] },
  });
  const spark = proxyActivities<LakeSparkActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'spark'),
    startToCloseTimeout: '3 hours',
    // The job heartbeats every few seconds; a worker that died is noticed within this, and the next
    // attempt attaches to the EMR step (or stops the orphaned local job) instead of doubling it.
    heartbeatTimeout: `${input.jobHeartbeatTimeoutSeconds ?? 120} seconds`,
    retry: { maximumAttempts: 5, initialInterval: '5 seconds', nonRetryableErrorTypes: [ErrorType.InvalidTableDefinition, ErrorType.LakeJobFailed] },
    // Cancelling the workflow cancels the step or kills spark-submit before the run ends.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });

  const totals = { files: 0, rowsRead: 0, rowsUpserted: 0, rowsDeleted: 0, rowsStale: 0, rowsQuarantined: 0 };
  const batches: LakeBatchOutcome[] = [];
  let current: PlannedLakeBatch | null = null;
  let paused = false;
  let latestInstant: string | null = null;
  setHandler(lakeStatusQuery, () => ({ table: input.table, paused, current, done: batches.length, totals }));
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));

  for (let i = 0; i < (input.maxBatches ?? 20); i++) {
    await condition(() => !paused);
    current = await io.planLakeBatch({ table: input.table, maxBatchBytes: input.maxBatchBytes, maxBatchFiles: input.maxBatchFiles });
    if (!current) break;
    const { result, run } = await spark.runLakeUpsert({ table: input.table, batchId: current.batchId });
    const committed = await io.commitLakeBatch({ table: input.table, batchId: current.batchId, result, run });
    latestInstant = committed.latestInstant;
    batches.push({ ...current, result, run });
    totals.files += current.files;
    totals.rowsRead += result.rowsRead;
    totals.rowsUpserted += result.rowsUpserted;
    totals.rowsDeleted += result.rowsDeleted;
    totals.rowsStale += result.rowsStale;
    totals.rowsQuarantined += result.rowsQuarantined;
    current = null;
  }
  return { table: input.table, batches, totals, latestInstant };
}
