// Connecting to Temporal as a client (CLI, demo, tests), and turning a failed run into the message a
// person should read.
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { DanauConfig } from '../config';

export async function connectClient(config: DanauConfig): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '10 seconds' });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** The innermost failure's message and type: what actually went wrong, not "Activity task failed". */
export function explainFailure(err: unknown): { message: string; type?: string; details?: unknown } {
  let cur: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  let best: { message: string; type?: string; details?: unknown } = { message: err instanceof Error ? err.message : String(err) };
  while (cur instanceof Error) {
    if (cur instanceof ApplicationFailure) {
      best = { message: cur.message, type: cur.type ?? undefined, details: cur.details?.[0] };
    } else if (!(cur instanceof TemporalFailure)) {
      best = { message: cur.message };
    }
    cur = cur.cause;
  }
  return best;
}

export function workflowUrl(config: DanauConfig, workflowId: string): string {
  return `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
}
