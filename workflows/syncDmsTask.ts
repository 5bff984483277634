// Production CDC: bring a source's AWS DMS replication task in line with the control plane, the
// runbook a person would follow in the DMS console. Ensure the task (create it, or update its table
// mappings and settings from the onboarded tables); a running task whose mappings changed is stopped,
// modified and resumed; then start or stop it as asked and wait until DMS reports that state.
// On one machine captureSource plays DMS's part; this workflow is what replaces it on AWS.
import { ApplicationFailure, defineQuery, proxyActivities, setHandler, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import type { DmsTaskStatus, StartType } from '../lib/capture/dms-task';

export type SyncDmsTaskInput = WorkflowInput<'syncDmsTask'>;

export interface EnsureDmsTaskResult {
  taskId: string;
  taskArn: string;
  /** stop-needed: the task runs with other mappings and must be stopped before it can be modified. */
  outcome: 'created' | 'modified' | 'unchanged' | 'stop-needed';
  status: string;
}

export interface SyncDmsTaskResult {
  taskId: string;
  taskArn: string;
  outcome: 'created' | 'modified' | 'unchanged';
  /** What the run did, in order, e.g. ["created", "started (start-replication)"]. */
  actions: string[];
  final: DmsTaskStatus;
}

export interface DmsActivities {
  ensureDmsTask: (input: Omit<SyncDmsTaskInput, 'desiredState' | 'pollSeconds' | 'waitMinutes'>) => Promise<EnsureDmsTaskResult>;
  startDmsTask: (input: { taskArn: string; startType: StartType }) => Promise<string>;
  stopDmsTask: (input: { taskArn: string }) => Promise<string>;
  describeDmsTask: (input: { taskArn: string }) => Promise<DmsTaskStatus>;
}

export const dmsTaskStatusQuery = defineQuery<{ actions: string[]; last: DmsTaskStatus | null }>('status');

export async function syncDmsTask(input: SyncDmsTaskInput): Promise<SyncDmsTaskResult> {
  input = parseWorkflowInput('syncDmsTask', input);
  upsertSearchAttributes([{ key: SearchAttribute.layer, value: 'raw' }]);
  const dms = proxyActivities<DmsActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'control'),
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.DmsTaskConflict] },
  });
  const desired = input.desiredState ?? 'running';
  const pollSeconds = input.pollSeconds ?? 15;
  const deadline = Date.now() + (input.waitMinutes ?? 30) * 60_000;
  const actions: string[] = [];
  let last: DmsTaskStatus | null = null;
  setHandler(dmsTaskStatusQuery, () => ({ actions, last }));

  const waitFor = async (taskArn: string, wanted: string[]): Promise<DmsTaskStatus> => {
    for (;;) {
      last = await dms.describeDmsTask({ taskArn });
      if (wanted.includes(last.status)) return last;
      if (last.status === 'failed' && !wanted.includes('failed')) {
        throw ApplicationFailure.create({
          type: ErrorType.DmsTaskConflict,
          message: `DMS task ${last.taskId} failed: ${last.lastFailureMessage ?? last.stopReason ?? 'no reason given'}`,
          nonRetryable: true,
        });
      }
      if (Date.now() > deadline) {
        throw ApplicationFailure.create({
          type: ErrorType.DmsTaskConflict,
          message: `DMS task ${last.taskId} is still ${last.status} after ${input.waitMinutes ?? 30} min; wanted ${wanted.join(' or ')}`,
          nonRetryable: true,
        });
      }
      await sleep(`${pollSeconds} seconds`);
    }
  };

  const task = { source: input.source, replicationInstanceArn: input.replicationInstanceArn, sourceEndpointArn: input.sourceEndpointArn, targetEndpointArn: input.targetEndpointArn, migrationType: input.migrationType ?? 'full-load-and-cdc' };
  let ensured = await dms.ensureDmsTask(task);
  let wasStoppedForChange = false;
  if (ensured.outcome === 'stop-needed') {
    // The table list changed under a running task: DMS modifies only a stopped task.
    actions.push('stopped to apply new table mappings');
    await dms.stopDmsTask({ taskArn: ensured.taskArn });
    await waitFor(ensured.taskArn, ['stopped']);
    ensured = await dms.ensureDmsTask(task);
    wasStoppedForChange = true;
  }
  if (ensured.outcome === 'stop-needed') throw ApplicationFailure.create({ type: ErrorType.DmsTaskConflict, message: `DMS task ${ensured.taskId} still differs from the control plane after a stop`, nonRetryable: true });
  actions.push(ensured.outcome);
  const outcome = ensured.outcome;
  const { taskArn } = ensured;

  let current = await waitFor(taskArn, ['ready', 'stopped', 'failed', 'running']);
  if (desired === 'running' && current.status !== 'running') {
    // A task that never ran starts from the full load; a stopped one carries on from its CDC checkpoint.
    const startType: StartType = current.status === 'ready' && !wasStoppedForChange ? 'start-replication' : 'resume-processing';
    await dms.startDmsTask({ taskArn, startType });
    actions.push(`started (${startType})`);
    current = await waitFor(taskArn, ['running', 'stopped']);
    if (current.status === 'stopped') {
      throw ApplicationFailure.create({ type: ErrorType.DmsTaskConflict, message: `DMS task ${current.taskId} stopped right after starting: ${current.stopReason ?? current.lastFailureMessage ?? 'no reason given'}`, nonRetryable: true });
    }
  } else if (desired === 'stopped' && current.status === 'running') {
    await dms.stopDmsTask({ taskArn });
    actions.push('stopped');
    current = await waitFor(taskArn, ['stopped']);
  }
  return { taskId: ensured.taskId, taskArn, outcome, actions, final: current };
}
