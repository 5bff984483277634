// One table's pipeline, the runbook an on-call engineer would follow by hand, each a named step:
//   1. checks     Is the raw data whole (files chain on without gap or overlap) and is the source's
//                 schema unchanged? A failure stops this table here, says why, and files a failed
//                 event; other tables go on. Stale raw data is only a warning: the lake step can still
//                 apply what there is.
//   2. lake       Apply the new raw files to the Hudi table (the upsertLakeTable workflow, as a child).
//   3. models     Build the warehouse models that read this table, when the lake moved past them
//                 (the buildModels workflow, as a child).
//   4. reporting  Refresh the reporting tables and materialized views that depend on those models.
// A step with nothing to do is skipped and says so. A step that fails after its retries files a
// failed event (one per table while it stays broken) and alerts; the next success resolves it.
// While the run is past the table's freshness deadline it alerts once, without waiting for the end.
// Answers `status`; `pause` holds the run between steps (and pauses the lake step between batches,
// the models step between levels);
// cancelling it cancels the child runs and the Spark job, statement or query they started.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
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
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { rootCause as rootCauseOf } from '../lib/common/failures';
import { SearchAttribute, WorkflowId, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import { buildModels, describeModelBuild, describeReportingRefresh, type BuildModelsResult, type ModelActivities, type ReportingRefreshResult } from './buildModels';
import type { Alert } from '../lib/alerts/webhook';
import type { CheckIngestionResult, IngestionCheckActivities } from './checkIngestion';
import { upsertLakeTable, type UpsertLakeTableResult } from './upsertLakeTable';

export type RunTablePipelineInput = WorkflowInput<'runTablePipeline'>;

export type PipelineStepName = 'checks' | 'lake' | 'models' | 'reporting';

export interface PipelineStep {
  name: PipelineStepName;
  status: 'pending' | 'running' | 'done' | 'skipped' | 'stopped' | 'failed';
  /** What the step did, or why it was skipped, stopped or failed, in a sentence. */
  detail: string;
}

export interface RunTablePipelineResult {
  table: string;
  /**
   * completed: every step done or skipped; stopped: a check failed or the table is paused; skipped:
   * the table is disabled; deferred: another run of this table (a backfill, a manual start) holds its
   * lake or model step, so this one left the work to it.
   */
  outcome: 'completed' | 'stopped' | 'skipped' | 'deferred';
  steps: PipelineStep[];
  lake: UpsertLakeTableResult['totals'] | null;
  models: BuildModelsResult['models'];
  reporting: ReportingRefreshResult[];
  /** The failed event filed for this table by this run, if any. */
  failedEventId: number | null;
  /** The run passed its freshness deadline (an alert was sent while it ran). */
  late: boolean;
}

export interface TablePipelineStatus {
  table: string;
  step: PipelineStepName | null;
  steps: PipelineStep[];
  paused: boolean;
  late: boolean;
}

/** What the pipeline needs to know of a table before it starts. */
export interface TablePipelinePlan {
  table: string;
  enabled: boolean;
  pausedReason: string | null;
  freshnessSlaMinutes: number;
  /** Enabled models whose source is this table. */
  models: string[];
}

/** An alert as the alert activity sends it (lib/alerts/webhook.ts). */
export type PipelineAlert = Alert;

export interface TablePipelineActivities {
  planTablePipeline: (input: { table: string }) => Promise<TablePipelinePlan>;
  /** The models of `models` whose last build is behind the table's newest lake commit. */
  modelsBehindLake: (input: { table: string; models: string[] }) => Promise<string[]>;
  recordPipelineFailure: (input: { table: string; step: PipelineStepName; errorType: string; reason: string; workflowId: string; runId: string }) => Promise<{ eventId: number; created: boolean }>;
  resolvePipelineFailures: (input: { table: string; workflowId: string }) => Promise<number[]>;
  sendAlert: (alert: PipelineAlert) => Promise<{ delivered: boolean }>;
}

export const tablePipelineStatusQuery = defineQuery<TablePipelineStatus>('status');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

/** Thrown inside the run to end it at a step that failed after its retries. */
class StepFailed extends Error {
  constructor(
    readonly step: PipelineStepName,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

const rootCause = (err: unknown) => rootCauseOf(err, ErrorType.PipelineStepFailed);

export async function runTablePipeline(input: RunTablePipelineInput): Promise<RunTablePipelineResult> {
  input = parseWorkflowInput('runTablePipeline', input);
  const { workflowId, runId, taskQueue } = workflowInfo();
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: input.table },
    { key: SearchAttribute.layer, value: 'pipeline' },
  ]);
  const control = proxyActivities<TablePipelineActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 10, nonRetryableErrorTypes: [ErrorType.TableNotOnboarded] } });
  const io = proxyActivities<IngestionCheckActivities & ModelActivities>({
    taskQueue: siblingQueue(taskQueue, 'io'),
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.InvalidModelDefinition, ErrorType.TableNotOnboarded] },
  });

  // An alert that cannot be delivered must not change the run's outcome: it is logged and recorded.
  const alerts = proxyActivities<Pick<TablePipelineActivities, 'sendAlert'>>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } });
  const alert = async (a: Omit<PipelineAlert, 'table' | 'workflowId' | 'runId' | 'at'>) => {
    try {
      await alerts.sendAlert({ ...a, table: input.table, workflowId, runId, at: new Date().toISOString() });
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn(`${input.table}: alert ${a.kind} not delivered: ${rootCause(err).message}`, { table: input.table });
    }
  };

  const steps: PipelineStep[] = (['checks', 'lake', 'models', 'reporting'] as const).map((name) => ({ name, status: 'pending', detail: '' }));
  const result: RunTablePipelineResult = { table: input.table, outcome: 'completed', steps, lake: null, models: [], reporting: [], failedEventId: null, late: false };
  let current: PipelineStepName | null = null;
  let paused = false;
  let finished = false;
  setHandler(tablePipelineStatusQuery, () => ({ table: input.table, step: current, steps, paused, late: result.late }));
  setHandler(pauseSignal, () => {
    paused = true;
    // The lake step may run for long: pause it between its batches too.
    if (current === 'lake') void getExternalWorkflowHandle(WorkflowId.upsertLakeTable(input.table)).signal('pause').catch(() => undefined);
    if (current === 'models') void getExternalWorkflowHandle(WorkflowId.buildModels(`table/${input.table}`)).signal('pause').catch(() => undefined);
  });
  setHandler(resumeSignal, () => {
    paused = false;
    if (current === 'lake') void getExternalWorkflowHandle(WorkflowId.upsertLakeTable(input.table)).signal('resume').catch(() => undefined);
    if (current === 'models') void getExternalWorkflowHandle(WorkflowId.buildModels(`table/${input.table}`)).signal('resume').catch(() => undefined);
  });

  const step = (name: PipelineStepName) => steps.find((s) => s.name === name)!;
  const settle = (name: PipelineStepName, status: PipelineStep['status'], detail: string) => {
    Object.assign(step(name), { status, detail });
    log.info(`${input.table}: ${name} ${status}: ${detail}`, { table: input.table, step: name });
  };
  async function begin(name: PipelineStepName): Promise<void> {
    await condition(() => !paused);
    current = name;
    step(name).status = 'running';
  }

  const deferred = (name: PipelineStepName, holder: string): RunTablePipelineResult => {
    settle(name, 'skipped', `another run of this table is at this step (${holder}): left to it`);
    for (const s of steps) if (s.status === 'pending') settle(s.name, 'skipped', `not run: ${name} deferred`);
    return { ...result, outcome: 'deferred' };
  };

  const plan = await control.planTablePipeline({ table: input.table });
  if (!plan.enabled) {
    for (const s of steps) settle(s.name, 'skipped', 'the table is disabled in the control plane');
    return { ...result, outcome: 'skipped' };
  }

  // The freshness deadline runs beside the steps: it alerts while the run is late, not after it ends.
  const deadlineMinutes = input.freshnessDeadlineMinutes ?? plan.freshnessSlaMinutes;
  const watch = new CancellationScope();
  void watch
    .run(async () => {
      if (await condition(() => finished, deadlineMinutes * 60_000)) return;
      result.late = true;
      await alert({
        kind: 'freshness_deadline',
        summary: `${input.table}: its pipeline has been running ${deadlineMinutes} min, past its freshness deadline, and is at step ${current ?? 'start'}`,
        details: { step: current, deadlineMinutes },
      });
    })
    .catch((err: unknown) => {
      if (!isCancellation(err)) log.warn('freshness alert failed', { table: input.table, error: String(err) });
    });

  try {
    // 1. checks
    await begin('checks');
    if (plan.pausedReason) {
      throw new StepFailed('checks', ErrorType.TablePaused, `table ${input.table} is paused: ${plan.pausedReason}`);
    }
    let checks: CheckIngestionResult;
    try {
      checks = await io.checkIngestion({ table: input.table });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = rootCause(err);
      throw new StepFailed('checks', cause.type, cause.message);
    }
    const blocking = checks.checks.filter((c) => !c.ok && c.name !== 'freshness');
    if (blocking.length) throw new StepFailed('checks', ErrorType.IngestionCheckFailed, blocking.map((c) => c.message).join('; '));
    const stale = checks.checks.find((c) => c.name === 'freshness' && !c.ok);
    settle('checks', 'done', `${checks.filesChecked} new raw file(s) checked${stale ? `; warning: ${stale.message}` : ''}`);

    // 2. lake
    await begin('lake');
    let lake: UpsertLakeTableResult;
    try {
      lake = await executeChild(upsertLakeTable, {
        workflowId: WorkflowId.upsertLakeTable(input.table),
        args: [{ table: input.table, maxBatches: input.maxBatches }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      if (err instanceof WorkflowExecutionAlreadyStartedError) return deferred('lake', err.workflowId);
      const cause = rootCause(err);
      throw new StepFailed('lake', cause.type, cause.message);
    }
    result.lake = lake.totals;
    if (lake.batches.length === 0) settle('lake', 'skipped', 'no new raw files');
    else
      settle(
        'lake',
        'done',
        `${lake.batches.length} batch(es), ${lake.totals.files} file(s): ${lake.totals.rowsUpserted} upserted, ${lake.totals.rowsDeleted} deleted, ${lake.totals.rowsStale + lake.totals.rowsQuarantined} set aside; Hudi at ${lake.latestInstant ?? '-'}`,
      );

    // 3. models
    await begin('models');
    const behind = plan.models.length ? await control.modelsBehindLake({ table: input.table, models: plan.models }) : [];
    if (!plan.models.length) settle('models', 'skipped', 'no model reads this table');
    else if (!behind.length) settle('models', 'skipped', `${plan.models.join(', ')} already at the lake's newest commit`);
    else {
      let built: BuildModelsResult;
      try {
        built = await executeChild(buildModels, {
          workflowId: WorkflowId.buildModels(`table/${input.table}`),
          args: [{ models: behind, refreshReporting: false }],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        });
      } catch (err) {
        if (isCancellation(err)) throw err;
        if (err instanceof WorkflowExecutionAlreadyStartedError) return deferred('models', err.workflowId);
        const cause = rootCause(err);
        throw new StepFailed('models', cause.type, cause.message);
      }
      result.models = built.models;
      settle('models', 'done', built.models.map(describeModelBuild).join('; '));
    }

    // 4. reporting: what depends on the models just built, level by level.
    await begin('reporting');
    const builtModels = result.models.filter((m) => m.built).map((m) => m.model);
    if (!builtModels.length) settle('reporting', 'skipped', 'no model changed');
    else {
      try {
        const { reportingLevels } = await io.planModelBuilds({ models: builtModels });
        for (const level of reportingLevels) {
          result.reporting.push(...(await Promise.all(level.map((name) => io.refreshReportingObject({ name, buildId: `${name}:${runId}` })))));
        }
      } catch (err) {
        if (isCancellation(err)) throw err;
        const cause = rootCause(err);
        throw new StepFailed('reporting', cause.type, cause.message);
      }
      if (!result.reporting.length) settle('reporting', 'skipped', 'no reporting object depends on the models built');
      else settle('reporting', result.reporting.some((r) => r.skipped === null) ? 'done' : 'skipped', result.reporting.map(describeReportingRefresh).join('; '));
    }

    current = null;
    const resolved = await control.resolvePipelineFailures({ table: input.table, workflowId });
    if (resolved.length) log.info(`${input.table}: resolved failed event(s) ${resolved.join(', ')}`, { table: input.table });
    return result;
  } catch (err) {
    if (!(err instanceof StepFailed)) throw err;
    // A stopped table is this run's outcome, not a crash: the failed event carries it to the
    // reprocessing loop and the on-call engineer, and the run ends saying why.
    settle(err.step, err.step === 'checks' ? 'stopped' : 'failed', err.message);
    for (const s of steps) if (s.status === 'pending') settle(s.name, 'skipped', `not run: ${err.step} ${err.step === 'checks' ? 'stopped' : 'failed'}`);
    const filed = await control.recordPipelineFailure({ table: input.table, step: err.step, errorType: err.errorType, reason: `${err.step}: ${err.message}`, workflowId, runId });
    result.failedEventId = filed.eventId;
    if (filed.created) {
      await alert({ kind: 'pipeline_failed', summary: `${input.table}: ${err.step} ${err.message}`, details: { step: err.step, errorType: err.errorType, failedEventId: filed.eventId } });
    }
    if (err.step === 'checks') return { ...result, outcome: 'stopped' };
    // A failed step fails the run, so the Web UI shows it red; the failed event is already filed.
    throw ApplicationFailure.create({ type: err.errorType, message: `${input.table}: ${err.step} failed: ${err.message}`, nonRetryable: true, details: [{ failedEventId: filed.eventId, step: err.step }] });
  } finally {
    finished = true;
    current = null;
    watch.cancel();
  }
}
