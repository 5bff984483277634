// Can the workers use this source? Run by `danau sources add` (and `danau sources check`) so the
// answer comes from where capture and onboarding will run, with the worker's secret provider and
// network, not from the machine the CLI happens to run on:
//   1. resolve the source's secret (an environment variable or a Secrets Manager secret);
//   2. connect and run a trivial query.
// A failed check is a result, not a failed run: it says what is missing (which variable or secret,
// connection refused, authentication failed), never a secret's value.
import { ApplicationFailure, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute } from '../lib/common/temporal';
import type { SourceCheckResult } from '../lib/sources/check';
import type { SourceEngine } from '../lib/sources/types';

export interface CheckSourceInput {
  /** A registered source, or the name of the one being registered when the fields below are given. */
  source: string;
  /** A source not (yet) recorded: checked as given, so a broken one need not be recorded first. */
  definition?: { engine: SourceEngine; databaseName: string; connectionSecret: string };
}

export interface SourceCheckActivities {
  checkSourceConnection: (input: CheckSourceInput) => Promise<SourceCheckResult>;
}

// One attempt: the point is to report what is wrong now, not to wait for it to be fixed.
const control = proxyActivities<SourceCheckActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });

function invalid(field: string, message: string): never {
  throw ApplicationFailure.create({ message: `checkSource input: ${field}: ${message}`, type: ErrorType.SourceMisconfigured, nonRetryable: true });
}

export async function checkSource(input: CheckSourceInput): Promise<SourceCheckResult> {
  if (!input || typeof input.source !== 'string' || !input.source) invalid('source', 'must be a source name');
  const d = input.definition;
  if (d !== undefined) {
    if (d.engine !== 'mysql' && d.engine !== 'postgres') invalid('definition.engine', 'must be mysql or postgres');
    if (typeof d.databaseName !== 'string' || !d.databaseName) invalid('definition.databaseName', 'must be a database name');
    if (typeof d.connectionSecret !== 'string' || !d.connectionSecret) invalid('definition.connectionSecret', 'must name an environment variable or a secret');
  }
  upsertSearchAttributes([{ key: SearchAttribute.layer, value: 'control' }]);
  return control.checkSourceConnection(input);
}
