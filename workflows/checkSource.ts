// Can the workers use this source? Run by `danau sources add` (and `danau sources check`) so the
// answer comes from where capture and onboarding will run, with the worker's secret provider and
// network, not from the machine the CLI happens to run on:
//   1. resolve the source's secret (an environment variable or a Secrets Manager secret);
//   2. connect and run a trivial query.
// A failed check is a result, not a failed run: it says what is missing (which variable or secret,
// connection refused, authentication failed), never a secret's value.
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import { SearchAttribute } from '../lib/common/temporal';
import type { SourceCheckResult } from '../lib/sources/check';

export type CheckSourceInput = WorkflowInput<'checkSource'>;

export interface SourceCheckActivities {
  checkSourceConnection: (input: CheckSourceInput) => Promise<SourceCheckResult>;
}

// One attempt: the point is to report what is wrong now, not to wait for it to be fixed.
const control = proxyActivities<SourceCheckActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });

export async function checkSource(input: CheckSourceInput): Promise<SourceCheckResult> {
  input = parseWorkflowInput('checkSource', input);
  upsertSearchAttributes([{ key: SearchAttribute.layer, value: 'control' }]);
  return control.checkSourceConnection(input);
}
