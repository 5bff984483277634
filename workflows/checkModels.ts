// The models' invariants over every row, the nightly counterpart of the checks each build runs over
// its batch's keys: one current version per key and no overlapping versions (type 2), one row per
// key (type 1), every fact resolving to a dimension row. Read only. Fails, not retryable, naming each
// check that found offending keys and the first of those keys (keys, never values).
import { ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import type { ModelActivities, ModelCheckResult } from './buildModels';

export type CheckModelsInput = WorkflowInput<'checkModels'>;

export interface CheckModelsResult {
  models: ModelCheckResult[];
}

export async function checkModels(input: CheckModelsInput = {}): Promise<CheckModelsResult> {
  input = parseWorkflowInput('checkModels', input);
  upsertSearchAttributes([{ key: SearchAttribute.layer, value: 'warehouse' }]);
  const io = proxyActivities<Pick<ModelActivities, 'planModelBuilds' | 'checkModel'>>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'io'),
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '2 minutes',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.InvalidModelDefinition] },
  });

  // 1. The models, dimensions before the facts that look them up (as a build orders them).
  const { levels } = await io.planModelBuilds({ models: input.models });
  // 2. Each model's checks over the whole table, one model at a time (they scan whole tables).
  const models: ModelCheckResult[] = [];
  for (const model of levels.flat()) models.push(await io.checkModel({ model }));
  // 3. Offences fail the run, so the Web UI and the schedule show it.
  const offences = models.flatMap((m) => m.checks.filter((c) => c.offendingKeys > 0).map((c) => `${c.name}: ${c.offendingKeys} key(s), first ${c.firstKeys.join(', ')}`));
  if (offences.length) {
    throw ApplicationFailure.create({ type: ErrorType.ModelInvariantViolated, message: `model invariants do not hold: ${offences.join('; ')}`, nonRetryable: true, details: [{ models }] });
  }
  return { models };
}
