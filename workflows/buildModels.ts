// Warehouse models from the lake, the runbook of the seed's model DAG:
//   1. Order the models by dependency (dimensions before the facts that look them up).
//   2. For each model, level by level (a level's models in parallel): pull what changed in its source
//      table's change log since the model's last instant (the lake job, an incremental read by commit
//      time; a start the cleaner has passed becomes a full comparison, said in the result), stage it
//      in the warehouse, and build the model in one transaction that also checks its invariants. The
//      model's checkpoint moves only when the build committed.
//   3. Refresh the reporting objects that depend on what was built, in dependency order.
// Answers `status`; `pause` holds it between levels until `resume`.
import { condition, defineQuery, defineSignal, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';

export type BuildModelsInput = WorkflowInput<'buildModels'>;

export interface ModelPull {
  rows: number;
  /** s3:// prefix of the Parquet the lake job wrote; null when nothing changed. */
  outputUri: string | null;
  beginInstant: string;
  endInstant: string | null;
  /** The start instant had been cleaned: the whole change log was compared. */
  fullComparison: boolean;
}

export interface ModelBuildResult {
  model: string;
  buildId: string;
  pull: ModelPull;
  /** false when the pull was empty and the model already existed. */
  built: boolean;
  /**
   * The warehouse's own count of the model's live rows (queryEstimatedRows; no COUNT(*) of the whole
   * table). It may lag the build by seconds (PostgreSQL flushes its statistics when a session goes
   * idle); null when the warehouse has none, absent from results recorded before it existed (they
   * held rowsAfter, which nothing reads now).
   */
  rowsEstimate?: number | null;
}

export interface ReportingRefreshResult {
  name: string;
  kind: 'table' | 'materialized_view';
  /** Rows after the refresh; 0 when skipped. */
  rows: number;
  /** Why it was not refreshed (e.g. "fact_appointment not built yet"), or null when it was. */
  skipped: string | null;
}

/** One model's build in a few words, for a step's detail. */
export function describeModelBuild(m: ModelBuildResult): string {
  // No row count: a COUNT(*) would read the whole table, and the warehouse's own count (rowsEstimate)
  // may not have caught up with the build yet.
  return `${m.model}: ${m.pull.rows} change(s)${m.built ? '' : ', nothing to build'}`;
}

/** One refresh in a sentence, for a step's detail. */
export function describeReportingRefresh(r: ReportingRefreshResult): string {
  return r.skipped === null ? `${r.name}: ${r.rows} row(s)` : `${r.name} skipped: ${r.skipped}`;
}

export interface BuildModelsResult {
  levels: string[][];
  models: ModelBuildResult[];
  reporting: ReportingRefreshResult[];
}

export interface ModelCheckResult {
  model: string;
  checks: { name: string; offendingKeys: number; /** The first few offending keys, as text. */ firstKeys: string[] }[];
}

export interface ModelActivities {
  planModelBuilds: (input: { models?: string[] }) => Promise<{ levels: string[][]; reportingLevels: string[][] }>;
  buildModel: (input: { model: string; buildId: string; pull: ModelPull }) => Promise<{ built: boolean; rowsEstimate: number | null }>;
  refreshReportingObject: (input: { name: string; buildId: string }) => Promise<ReportingRefreshResult>;
  /** The model's invariant checks over its whole table (read only). */
  checkModel: (input: { model: string }) => Promise<ModelCheckResult>;
}

export interface ModelSparkActivities {
  pullModelChanges: (input: { model: string; buildId: string }) => Promise<ModelPull>;
}

export const buildStatusQuery = defineQuery<{ done: string[]; running: string[]; reporting: string[]; paused: boolean }>('status');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

export async function buildModels(input: BuildModelsInput = {}): Promise<BuildModelsResult> {
  input = parseWorkflowInput('buildModels', input);
  upsertSearchAttributes([{ key: SearchAttribute.layer, value: 'warehouse' }]);
  const io = proxyActivities<ModelActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'io'),
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '2 minutes',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.InvalidModelDefinition, ErrorType.ModelInvariantViolated] },
  });
  const spark = proxyActivities<ModelSparkActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'spark'),
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '2 minutes',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: [ErrorType.InvalidModelDefinition, ErrorType.LakeJobFailed] },
  });

  const done: string[] = [];
  const running = new Set<string>();
  const reportingDone: string[] = [];
  let paused = false;
  setHandler(buildStatusQuery, () => ({ done, running: [...running], reporting: reportingDone, paused }));
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));

  const { levels, reportingLevels } = await io.planModelBuilds({ models: input.models });
  const models: ModelBuildResult[] = [];
  const runId = workflowInfo().runId;
  for (const level of levels) {
    // A pause holds the build between levels: the models of a level finish together.
    await condition(() => !paused);
    const results = await Promise.all(
      level.map(async (model) => {
        running.add(model);
        // One build id per model per run: every attempt of its activities works on the same build.
        const buildId = `${model}:${runId}`;
        const pull = await spark.pullModelChanges({ model, buildId });
        const built = await io.buildModel({ model, buildId, pull });
        running.delete(model);
        done.push(model);
        return { model, buildId, pull, ...built };
      }),
    );
    models.push(...results);
  }

  const reporting: ReportingRefreshResult[] = [];
  if (input.refreshReporting ?? true) {
    for (const level of reportingLevels) {
      await condition(() => !paused);
      const refreshed = await Promise.all(level.map((name) => io.refreshReportingObject({ name, buildId: `${name}:${runId}` })));
      reporting.push(...refreshed);
      reportingDone.push(...level);
    }
  }
  return { levels, models, reporting };
}
