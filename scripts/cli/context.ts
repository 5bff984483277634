// What every `danau` command shares: the configuration (loaded once, on first use), a Temporal
// client and a control-plane connection that are closed afterwards, argument parsers, and the
// UsageError a person can act on (printed without a stack trace).
import { InvalidArgumentError } from 'commander';
import { userInfo } from 'node:os';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { parseWorkflowInput, type CheckedWorkflowInput, type WorkflowInput, type WorkflowName } from '../../lib/common/workflow-inputs';
import { loadConfig, type DanauConfig } from '../../lib/config';
import { ControlPlane } from '../../lib/control-plane/store';
import { connectClient, explainFailure } from '../../lib/temporal/client';

/** A failure the user can fix; printed without a stack trace. */
export class UsageError extends Error {}

export const print = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};

/** Who a change is recorded as made by, in the audit log. */
export const actor = (): string => process.env.DANAU_ACTOR ?? `${userInfo().username}@danau-cli`;

let configCache: DanauConfig | undefined;
export const config = (): DanauConfig => (configCache ??= loadConfig());

export async function withControlPlane<T>(work: (cp: ControlPlane) => Promise<T>): Promise<T> {
  const cp = ControlPlane.connect(config().controlDatabaseUrl);
  try {
    return await work(cp);
  } finally {
    await cp.close();
  }
}

/** Runs `work` with a Temporal client; a failed run is reported as its innermost cause. */
export async function withClient(work: (client: Client) => Promise<void>): Promise<void> {
  const client = await connectClient(config());
  try {
    await work(client);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(explainFailure(err).message);
  } finally {
    await client.connection.close();
  }
}

/**
 * A workflow's arguments, checked against the schema the workflow itself checks at its door, so a
 * bad flag is refused here, before anything starts, with the message the run would have failed with.
 */
export function workflowArgs<N extends WorkflowName>(workflow: N, input: WorkflowInput<N>): [CheckedWorkflowInput<N>] {
  try {
    return [parseWorkflowInput(workflow, input)];
  } catch (err) {
    if (err instanceof ApplicationFailure) throw new UsageError(err.message);
    throw err;
  }
}

export const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

export const nonNegative = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number of 0 or more`);
  return n;
};

export const isoDate = (name: string) => (v: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new InvalidArgumentError(`${name} must be a date such as 2026-11-01`);
  return v;
};

export const tableKeyArg = (v: string) => {
  if (!/^[^.\s]+\.[^.\s]+\.[^.\s]+$/.test(v)) throw new InvalidArgumentError(`${v} is not a table: expected source.schema.table`);
  return v;
};

/**
 * What a run's own status query cannot say: a closed run's outcome and failure (its type and message),
 * and an activity being retried (its attempt and last failure). Lines to print; empty when neither.
 */
export async function runHealth(handle: WorkflowHandle): Promise<{ running: boolean; status: string; lines: string[] }> {
  const d = await handle.describe();
  const status = d.status.name;
  if (status !== 'RUNNING') {
    if (status !== 'FAILED' && status !== 'TERMINATED' && status !== 'TIMED_OUT') return { running: false, status, lines: [] };
    const failure = await handle.result().then(
      () => null,
      (err: unknown) => explainFailure(err),
    );
    return { running: false, status, lines: failure ? [`  ${status}: ${failure.type ? `${failure.type}: ` : ''}${failure.message}`] : [] };
  }
  const lines = (d.raw.pendingActivities ?? [])
    .filter((a) => (a.attempt ?? 1) > 1)
    .map((a) => `  RETRYING ${a.activityType?.name ?? 'activity'} (attempt ${a.attempt}): ${a.lastFailure?.message ?? 'no failure recorded'}`);
  return { running: true, status, lines };
}
