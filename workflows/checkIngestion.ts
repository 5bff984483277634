// The ingestion checks, the first step of every table's pipeline: is the raw data fresh, do the new
// files chain on from the last checked one without gap or overlap, and has the source's schema
// drifted? Each run is recorded in the control plane; drift pauses the table's pipeline with a
// message saying what changed (capture goes on, so nothing is lost while a person looks).
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SearchAttribute, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';

export type CheckIngestionInput = WorkflowInput<'checkIngestion'>;

export interface IngestionCheckResult {
  name: 'freshness' | 'continuity' | 'schema_drift';
  ok: boolean;
  message: string;
}

export interface CheckIngestionResult {
  table: string;
  ok: boolean;
  filesChecked: number;
  checks: IngestionCheckResult[];
  /** Set when the run paused the table. */
  paused: string | null;
}

export interface IngestionCheckActivities {
  checkIngestion: (input: CheckIngestionInput) => Promise<CheckIngestionResult>;
}

const ioActivities = () =>
  proxyActivities<IngestionCheckActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'io'),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '1 minute',
    retry: { maximumAttempts: 5 },
  });

export async function checkIngestion(input: CheckIngestionInput): Promise<CheckIngestionResult> {
  input = parseWorkflowInput('checkIngestion', input);
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: input.table },
    { key: SearchAttribute.layer, value: 'raw' },
  ]);
  return ioActivities().checkIngestion(input);
}
