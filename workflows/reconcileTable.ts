// Reconcile a table on demand: the source's row count and key-set checksum against what replaying
// the raw zone implies. A difference names sample keys on each side; recorded in the control plane.
// The raw zone trails the source by up to a capture window, so run it when the source is quiet, or
// read a difference of a few recent keys as lag.
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SearchAttribute, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';

export type ReconcileTableInput = WorkflowInput<'reconcileTable'>;

export interface ReconcileTableResult {
  table: string;
  match: boolean;
  source: { rows: number; checksum: string };
  raw: { rows: number; checksum: string; files: number };
  /** Up to 10 keys on each side that the other lacks. */
  missingInRaw: string[];
  extraInRaw: string[];
}

export interface ReconcileActivities {
  reconcileTable: (input: ReconcileTableInput) => Promise<ReconcileTableResult>;
}

export async function reconcileTable(input: ReconcileTableInput): Promise<ReconcileTableResult> {
  input = parseWorkflowInput('reconcileTable', input);
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: input.table },
    { key: SearchAttribute.layer, value: 'raw' },
  ]);
  const io = proxyActivities<ReconcileActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'io'),
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  });
  return io.reconcileTable(input);
}
