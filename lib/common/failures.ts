// What went wrong, from a failure chain: a run's error wraps its child's, which wraps its activity's,
// which wraps the ApplicationFailure that says what happened. Workflow-safe (no I/O).
import { ApplicationFailure, ChildWorkflowFailure } from '@temporalio/common';

/**
 * The innermost ApplicationFailure's type and message (or the innermost plain error's message):
 * "column fee changed from decimal(8,2) to decimal(12,3)", not "Child Workflow execution failed".
 */
export function rootCause(err: unknown, fallbackType: string): { type: string; message: string } {
  let cur: unknown = err;
  let best = { type: fallbackType, message: err instanceof Error ? err.message : String(err) };
  while (cur instanceof Error) {
    if (cur instanceof ApplicationFailure) best = { type: cur.type ?? best.type, message: cur.message };
    else if (!(cur instanceof ChildWorkflowFailure) && cur.message) best = { ...best, message: cur.message };
    cur = cur.cause;
  }
  return best;
}
