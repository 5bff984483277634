// Backfill a table for a date range: after a person fixed something (a column's lake type in the
// control plane, a bug in the lake job), re-run the table's days so the processed zone and the models
// reflect the fix. The runbook, each a named step:
//   1. recover  Put the range's archived raw files back at their keys (the recoverTable workflow, as a
//               child). No archive in the range is a no-op, said so; an entry that fails its
//               size/CRC check fails the backfill (its changes would be missing).
//   2. lake     Apply the range's raw files to the Hudi table again (reapplyLakeRange, a child run
//               under the table's lake-upsert id, so it and the table's lake step or a replay are
//               never two writers at once; while that id is busy the backfill waits and retries):
//               CDC files whose key's commit date is in the range, consumed or not, in consumption
//               order, in batches within the usual limits; the full load only when asked. Each batch
//               runs the lake job with `reapply`: a change equal to the stored row's is applied again
//               when the row it makes now differs, older ones are superseded (not set aside), and the
//               change log gets only the changes it lacks or now holds differently. Batches are
//               recorded in lake_reapply_batches; the table's lake checkpoint and consumed files do
//               not change, and no failed events are filed.
//   3. models   Build the enabled models whose source is this table, when the change log moved past
//               them (buildModels as a child, id build-models/backfill/<table>), and refresh the
//               reporting objects on them.
// Answers `status`; `pause` holds it between steps (and the lake step between batches); cancelling
// it cancels the child runs and the Spark job under them.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ActivityCancellationType,
  ApplicationFailure,
  ParentClosePolicy,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { rootCause as rootCauseOf } from '../lib/common/failures';
import { SearchAttribute, WorkflowId, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import type { LakeUpsertResult } from '../lib/lake/batches';
import { buildModels, describeModelBuild, describeReportingRefresh, type BuildModelsResult, type ReportingRefreshResult } from './buildModels';
import { recoverTable, type RecoverTableResult } from './recoverTable';
import type { TablePipelineActivities } from './runTablePipeline';
import type { LakeJobRun } from './upsertLakeTable';

export type BackfillTableInput = WorkflowInput<'backfillTable'>;

export type BackfillStepName = 'recover' | 'lake' | 'models';

export interface BackfillStep {
  name: BackfillStepName;
  status: 'pending' | 'running' | 'waiting' | 'done' | 'skipped' | 'failed';
  /** What the step did, or why it was skipped, is waiting or failed, in a sentence. */
  detail: string;
}

export interface ReapplyBatchPlan {
  batchId: string;
  files: number;
  bytes: number;
  /** Committed by an earlier attempt of this backfill: its figures are the recorded ones. */
  committed: boolean;
  result: LakeUpsertResult | null;
}

export interface LakeReapplyPlan {
  backfillId: string;
  files: number;
  bytes: number;
  /** Of `files`, full-load files (only with includeLoad). */
  loadFiles: number;
  batches: ReapplyBatchPlan[];
  /** Files dated in the range that are archived and not in the raw zone (recover them to apply them). */
  archivedMissing: number;
}

export interface ReappliedBatch {
  batchId: string;
  files: number;
  bytes: number;
  result: LakeUpsertResult;
  /** null when an earlier attempt of this backfill committed it. */
  run: LakeJobRun | null;
}

export interface ReapplyTotals {
  files: number;
  rowsRead: number;
  /** Rows written: new or newer changes, and reapplied ones. */
  rowsUpserted: number;
  /** Of rowsUpserted, changes equal to the stored row's that now make a different row. */
  rowsReapplied: number;
  /** Changes equal to the stored row's that make the same row: left alone. */
  rowsUnchanged: number;
  rowsDeleted: number;
  /** Changes older than the stored row (it moved on after them): left alone. */
  rowsSuperseded: number;
  /** Rows that still do not cast to their lake type (written beside the batch, not filed again). */
  rowsQuarantined: number;
}

export type ReapplyLakeRangeInput = WorkflowInput<'reapplyLakeRange'>;

export interface ReapplyLakeRangeResult {
  table: string;
  startDate: string;
  endDate: string;
  backfillId: string;
  files: number;
  loadFiles: number;
  archivedMissing: number;
  batches: ReappliedBatch[];
  totals: ReapplyTotals;
  /** Hudi instants the backfill wrote to the table, and to its change log (none: nothing changed). */
  instants: string[];
  changelogInstants: string[];
}

export interface ReapplyStatus {
  table: string;
  paused: boolean;
  planned: number;
  done: number;
  current: string | null;
  totals: ReapplyTotals;
}

export interface LakeBackfillActivities {
  planLakeReapply: (input: {
    table: string;
    startDate: string;
    endDate: string;
    backfillId: string;
    workflowId?: string;
    includeLoad?: boolean;
    maxBatchBytes?: number;
    maxBatchFiles?: number;
  }) => Promise<LakeReapplyPlan>;
  commitLakeReapply: (input: { table: string; batchId: string; result: LakeUpsertResult; run: LakeJobRun }) => Promise<{ committed: boolean }>;
  /** Of `models`, those whose checkpoint is behind the newest commit of the table's change log. */
  modelsBehindChangelog: (input: { table: string; models: string[] }) => Promise<{ behind: string[]; changelogInstant: string | null }>;
}

export interface LakeBackfillSparkActivities {
  runLakeReapply: (input: { table: string; batchId: string }) => Promise<{ result: LakeUpsertResult; run: LakeJobRun }>;
}

export interface BackfillTableResult {
  table: string;
  startDate: string;
  endDate: string;
  steps: BackfillStep[];
  recovered: RecoverTableResult['totals'] | null;
  lake: ReapplyLakeRangeResult | null;
  models: BuildModelsResult['models'];
  reporting: ReportingRefreshResult[];
}

export interface BackfillStatus {
  table: string;
  startDate: string;
  endDate: string;
  step: BackfillStepName | null;
  steps: BackfillStep[];
  paused: boolean;
}

export const backfillStatusQuery = defineQuery<BackfillStatus>('status');
export const reapplyStatusQuery = defineQuery<ReapplyStatus>('status');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

const emptyTotals = (): ReapplyTotals => ({ files: 0, rowsRead: 0, rowsUpserted: 0, rowsReapplied: 0, rowsUnchanged: 0, rowsDeleted: 0, rowsSuperseded: 0, rowsQuarantined: 0 });

function addUp(totals: ReapplyTotals, files: number, r: LakeUpsertResult): void {
  totals.files += files;
  totals.rowsRead += r.rowsRead;
  totals.rowsUpserted += r.rowsUpserted;
  totals.rowsReapplied += r.rowsReapplied ?? 0;
  totals.rowsUnchanged += r.rowsDuplicate;
  totals.rowsDeleted += r.rowsDeleted;
  totals.rowsSuperseded += r.rowsStale;
  totals.rowsQuarantined += r.rowsQuarantined;
}

/**
 * The lake part of a backfill, run as a child under the table's lake-upsert workflow id: plan the
 * range's batches (or find the plan of an earlier attempt), then run the lake job on each with
 * `reapply` and record it. `pause` waits between batches.
 */
export async function reapplyLakeRange(input: ReapplyLakeRangeInput): Promise<ReapplyLakeRangeResult> {
  input = parseWorkflowInput('reapplyLakeRange', input);
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: input.table },
    { key: SearchAttribute.layer, value: 'processed' },
  ]);
  const io = proxyActivities<LakeBackfillActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'io'),
    startToCloseTimeout: '10 minutes',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.InvalidTableDefinition, ErrorType.TablePaused, ErrorType.InvalidBackfillRequest] },
  });
  const spark = proxyActivities<LakeBackfillSparkActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'spark'),
    startToCloseTimeout: '3 hours',
    heartbeatTimeout: `${input.jobHeartbeatTimeoutSeconds ?? 120} seconds`,
    retry: { maximumAttempts: 5, initialInterval: '5 seconds', nonRetryableErrorTypes: [ErrorType.InvalidTableDefinition, ErrorType.LakeJobFailed] },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });

  const totals = emptyTotals();
  const batches: ReappliedBatch[] = [];
  let planned = 0;
  let current: string | null = null;
  let paused = false;
  setHandler(reapplyStatusQuery, () => ({ table: input.table, paused, planned, done: batches.length, current, totals }));
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));

  const plan = await io.planLakeReapply({
    table: input.table,
    startDate: input.startDate,
    endDate: input.endDate,
    backfillId: input.backfillId,
    workflowId: input.backfillWorkflowId,
    includeLoad: input.includeLoad,
    maxBatchBytes: input.maxBatchBytes,
    maxBatchFiles: input.maxBatchFiles,
  });
  planned = plan.batches.length;
  for (const b of plan.batches) {
    if (b.committed && b.result) {
      batches.push({ batchId: b.batchId, files: b.files, bytes: b.bytes, result: b.result, run: null });
      addUp(totals, b.files, b.result);
      continue;
    }
    await condition(() => !paused);
    current = b.batchId;
    const { result, run } = await spark.runLakeReapply({ table: input.table, batchId: b.batchId });
    await io.commitLakeReapply({ table: input.table, batchId: b.batchId, result, run });
    batches.push({ batchId: b.batchId, files: b.files, bytes: b.bytes, result, run });
    addUp(totals, b.files, result);
    current = null;
  }
  return {
    table: input.table,
    startDate: input.startDate,
    endDate: input.endDate,
    backfillId: plan.backfillId,
    files: plan.files,
    loadFiles: plan.loadFiles,
    archivedMissing: plan.archivedMissing,
    batches,
    totals,
    instants: batches.flatMap((b) => (b.result.instant ? [b.result.instant] : [])),
    changelogInstants: batches.flatMap((b) => (b.result.changelogInstant ? [b.result.changelogInstant] : [])),
  };
}

const rootCause = (err: unknown) => rootCauseOf(err, ErrorType.BackfillStepFailed);

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (v: unknown): v is string => typeof v === 'string' && DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v;

/** Thrown inside the run to end it at a step that failed. */
class StepFailed extends Error {
  constructor(
    readonly step: BackfillStepName,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

export async function backfillTable(input: BackfillTableInput): Promise<BackfillTableResult> {
  input = parseWorkflowInput('backfillTable', input);
  const { table, startDate, endDate } = input;
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: table },
    { key: SearchAttribute.layer, value: 'pipeline' },
  ]);
  for (const [what, v] of [['startDate', startDate], ['endDate', endDate]] as const) {
    if (!isDate(v)) throw ApplicationFailure.create({ type: ErrorType.InvalidBackfillRequest, message: `${what} ${JSON.stringify(v)} is not a date (YYYY-MM-DD)`, nonRetryable: true });
  }
  if (startDate > endDate) throw ApplicationFailure.create({ type: ErrorType.InvalidBackfillRequest, message: `startDate ${startDate} is after endDate ${endDate}`, nonRetryable: true });

  const { workflowId, runId, taskQueue } = workflowInfo();
  const control = proxyActivities<Pick<TablePipelineActivities, 'planTablePipeline'>>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 10, nonRetryableErrorTypes: [ErrorType.TableNotOnboarded] } });
  const io = proxyActivities<Pick<LakeBackfillActivities, 'modelsBehindChangelog'>>({
    taskQueue: siblingQueue(taskQueue, 'io'),
    startToCloseTimeout: '5 minutes',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.InvalidTableDefinition] },
  });
  const waitMinutes = input.waitMinutes ?? 60;
  const pollSeconds = Math.max(1, input.waitPollSeconds ?? 30);

  const steps: BackfillStep[] = (['recover', 'lake', 'models'] as const).map((name) => ({ name, status: 'pending', detail: '' }));
  const result: BackfillTableResult = { table, startDate, endDate, steps, recovered: null, lake: null, models: [], reporting: [] };
  let current: BackfillStepName | null = null;
  let paused = false;
  // The child a pause is passed on to: the lake step pauses between its batches, recovery between archives.
  const childOf = (s: BackfillStepName | null): string | null => (s === 'lake' ? WorkflowId.upsertLakeTable(table) : s === 'recover' ? WorkflowId.recoverTable(table, startDate, endDate) : null);
  const forward = (signal: 'pause' | 'resume') => {
    const child = childOf(current);
    if (child && step(current!).status === 'running') void getExternalWorkflowHandle(child).signal(signal).catch(() => undefined);
  };
  setHandler(backfillStatusQuery, () => ({ table, startDate, endDate, step: current, steps, paused }));
  setHandler(pauseSignal, () => {
    paused = true;
    forward('pause');
  });
  setHandler(resumeSignal, () => {
    paused = false;
    forward('resume');
  });

  const step = (name: BackfillStepName) => steps.find((s) => s.name === name)!;
  const settle = (name: BackfillStepName, status: BackfillStep['status'], detail: string) => {
    Object.assign(step(name), { status, detail });
    log.info(`${table} backfill ${startDate}..${endDate}: ${name} ${status}: ${detail}`, { table, step: name });
  };
  async function begin(name: BackfillStepName): Promise<void> {
    await condition(() => !paused);
    current = name;
    step(name).status = 'running';
  }

  /**
   * Starts a child whose id another run may hold (the table's lake step, a replay, another backfill,
   * a model build): while it does, the step says so and tries again every pollSeconds, for up to
   * waitMinutes. Temporal refuses a second running workflow with one id, which is what keeps two
   * writers off one Hudi table.
   */
  async function whenFree<T>(name: BackfillStepName, childId: string, what: string, start: () => Promise<T>): Promise<T> {
    const until = Date.now() + waitMinutes * 60_000;
    for (;;) {
      try {
        return await start();
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        if (Date.now() >= until) {
          throw new StepFailed(name, ErrorType.BackfillBlocked, `${childId} (${what}) stayed busy for ${waitMinutes} min; this step changed nothing: start the backfill again later`);
        }
        settle(name, 'waiting', `${childId} is running (${what}); trying again every ${pollSeconds} s, for up to ${waitMinutes} min`);
        await sleep(pollSeconds * 1000);
        await condition(() => !paused);
        step(name).status = 'running';
      }
    }
  }

  async function asStep<T>(name: BackfillStepName, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof StepFailed) throw err;
      // A cancelled run ends Cancelled: let the cancellation through untouched.
      if (isCancellation(err)) throw err;
      const cause = rootCause(err);
      throw new StepFailed(name, cause.type, cause.message);
    }
  }

  try {
    const plan = await control.planTablePipeline({ table });

    // 1. recover
    await begin('recover');
    if (input.recover === false) settle('recover', 'skipped', 'not asked (recover: false): only files in the raw zone are applied');
    else {
      const recoverId = WorkflowId.recoverTable(table, startDate, endDate);
      const recovered = await asStep('recover', () =>
        whenFree('recover', recoverId, 'a recovery of this range', () =>
          executeChild(recoverTable, { workflowId: recoverId, args: [{ table, startDate, endDate }], parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL }),
        ),
      );
      result.recovered = recovered.totals;
      if (recovered.totals.corrupt > 0) throw new StepFailed('recover', ErrorType.ArchiveVerificationFailed, `${recovered.message}: their changes would be missing from the backfill`);
      if (recovered.totals.archives === 0) settle('recover', 'skipped', recovered.message);
      else settle('recover', 'done', recovered.message);
    }

    // 2. lake
    await begin('lake');
    const lakeId = WorkflowId.upsertLakeTable(table);
    const lake = await asStep('lake', () =>
      whenFree('lake', lakeId, "the table's lake step, a replay or another backfill", () =>
        executeChild(reapplyLakeRange, {
          workflowId: lakeId,
          args: [
            {
              table,
              startDate,
              endDate,
              // One backfill run's batches keep their ids across retries; a later backfill gets new ones.
              backfillId: runId,
              backfillWorkflowId: workflowId,
              includeLoad: input.includeLoad,
              maxBatchBytes: input.maxBatchBytes,
              maxBatchFiles: input.maxBatchFiles,
              jobHeartbeatTimeoutSeconds: input.jobHeartbeatTimeoutSeconds,
            },
          ],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        }),
      ),
    );
    result.lake = lake;
    const missing = lake.archivedMissing ? `; ${lake.archivedMissing} file(s) of the range are archived and not in the raw zone (run with recover)` : '';
    if (lake.files === 0) settle('lake', 'skipped', `no raw files dated ${startDate}..${endDate}${input.includeLoad ? ' and no full load' : ''}${missing}`);
    else {
      const t = lake.totals;
      const wrote = lake.instants.length ? `Hudi commit(s) ${lake.instants.join(', ')}` : 'no Hudi commit (nothing differed)';
      settle(
        'lake',
        'done',
        `${lake.batches.length} batch(es), ${lake.files} file(s): ${t.rowsUpserted} row(s) written (${t.rowsReapplied} rewritten with the current definition), ${t.rowsUnchanged} unchanged, ` +
          `${t.rowsSuperseded} superseded by newer changes, ${t.rowsDeleted} deleted, ${t.rowsQuarantined} still do not cast; ${wrote}; ` +
          `${lake.changelogInstants.length ? `change log commit(s) ${lake.changelogInstants.join(', ')}` : 'change log unchanged'}${missing}`,
      );
    }

    // 3. models (and their reporting objects)
    await begin('models');
    if (input.rebuildModels === false) settle('models', 'skipped', 'not asked (rebuildModels: false)');
    else if (!plan.models.length) settle('models', 'skipped', 'no enabled model reads this table');
    else {
      const { behind, changelogInstant } = await asStep('models', () => io.modelsBehindChangelog({ table, models: plan.models }));
      if (!behind.length) settle('models', 'skipped', `${plan.models.join(', ')} already at the change log's newest commit (${changelogInstant ?? 'none'})`);
      else {
        const buildId = WorkflowId.buildModels(`backfill/${table}`);
        const built = await asStep('models', () =>
          whenFree('models', buildId, 'a build of these models', () =>
            executeChild(buildModels, { workflowId: buildId, args: [{ models: behind, refreshReporting: true }], parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL }),
          ),
        );
        result.models = built.models;
        result.reporting = built.reporting;
        const reporting = built.reporting.length ? `; reporting: ${built.reporting.map(describeReportingRefresh).join(', ')}` : '';
        settle('models', 'done', `${built.models.map(describeModelBuild).join('; ')}${reporting}`);
      }
    }
    current = null;
    return result;
  } catch (err) {
    if (!(err instanceof StepFailed)) throw err;
    settle(err.step, 'failed', err.message);
    for (const s of steps) if (s.status === 'pending') settle(s.name, 'skipped', `not run: ${err.step} failed`);
    throw ApplicationFailure.create({ type: err.errorType, message: `${table} backfill ${startDate}..${endDate}: ${err.step} failed: ${err.message}`, nonRetryable: true });
  } finally {
    current = null;
  }
}
