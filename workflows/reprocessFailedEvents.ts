// The reprocessing loop (the seed's scheduled reprocessing of its DynamoDB failed events):
//   1. Claim the events that are due (or the ones a person asked to retry now). Claiming counts the
//      attempt and sets when the next one may come: the wait doubles each time.
//   2. Retry each, a few at a time:
//        - a table pipeline that failed: run the table's pipeline again;
//        - rows the lake job set aside (uncastable values, changes older than the stored row): replay
//          exactly those rows from their raw files through the lake job, with the table's current
//          definition (a person may have widened a type since).
//   3. Settle each: resolved; or back to pending for its next attempt; or, once it reached the cap,
//      the dead letter, with an alert. An event whose table pipeline is already running is deferred,
//      its attempt not counted.
// Answers `status` (the events it took); `pause` stops taking new events until `resume`; `skip`
// marks claimed events a person decided need no retry.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ActivityCancellationType, ParentClosePolicy, condition, defineQuery, defineSignal, executeChild, isCancellation, log, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { rootCause } from '../lib/common/failures';
import { SearchAttribute, WorkflowId, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import { runTablePipeline, type PipelineAlert } from './runTablePipeline';

export type ReprocessFailedEventsInput = WorkflowInput<'reprocessFailedEvents'>;

/** A failed event as the loop sees it. */
export interface ClaimedEvent {
  eventId: number;
  pipeline: string;
  table: string | null;
  errorType: string;
  reason: string;
  dataRef: Record<string, unknown>;
  attempts: number;
}

export interface ReprocessOutcome {
  eventId: number;
  table: string | null;
  kind: 'resolved' | 'failed' | 'deferred' | 'skipped';
  /** The event's status after settling: resolved, pending (retried later), dead_letter or skipped. */
  status: string;
  detail: string;
}

export interface ReprocessFailedEventsResult {
  claimed: number;
  outcomes: ReprocessOutcome[];
  resolved: number;
  retryLater: number;
  deadLettered: number;
}

export interface ReprocessActivities {
  claimFailedEvents: (input: { limit: number; backoffSeconds: number; eventIds?: number[] }) => Promise<ClaimedEvent[]>;
  settleFailedEvent: (input: { eventId: number; kind: Exclude<ReprocessOutcome['kind'], 'skipped'>; detail: string; maxAttempts: number; by: string }) => Promise<{ status: string; attempts: number }>;
  skipFailedEvents: (input: { eventIds: number[]; by: string; note: string }) => Promise<number[]>;
  sendAlert: (alert: PipelineAlert) => Promise<{ delivered: boolean }>;
}

export interface LakeReplayActivities {
  replayLakeRows: (input: ReplayLakeEventInput) => Promise<{ rowsApplied: number; rowsStillSetAside: number; stillSetAsideUri: string | null; instant: string | null; reason: string }>;
}

export type ReplayLakeEventInput = WorkflowInput<'replayLakeEvent'>;

/**
 * Replays one event's set-aside rows through the lake job. Run as a child under the table's
 * lake-upsert workflow id, which makes it wait its turn with the table's own lake step.
 */
export async function replayLakeEvent(input: ReplayLakeEventInput): Promise<Awaited<ReturnType<LakeReplayActivities['replayLakeRows']>>> {
  input = parseWorkflowInput('replayLakeEvent', input);
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: input.table },
    { key: SearchAttribute.layer, value: 'processed' },
  ]);
  const spark = proxyActivities<LakeReplayActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'spark'),
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '2 minutes',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: [ErrorType.LakeJobFailed, ErrorType.InvalidTableDefinition, ErrorType.ReplayDataMissing] },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  return spark.replayLakeRows(input);
}

export interface ReprocessStatus {
  /** The events this run took, with what it knows of each. */
  claimed: { eventId: number; table: string | null; errorType: string; attempts: number }[];
  done: number;
  running: number[];
  paused: boolean;
}

export const reprocessStatusQuery = defineQuery<ReprocessStatus>('status');
/** Skip claimed events not yet retried (a person decided they need no retry); `note` says why. */
export const skipSignal = defineSignal<[{ eventIds: number[]; note: string; by?: string }]>('skip');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

const message = (err: unknown) => rootCause(err, 'ReprocessFailed').message;

export async function reprocessFailedEvents(input: ReprocessFailedEventsInput = {}): Promise<ReprocessFailedEventsResult> {
  input = parseWorkflowInput('reprocessFailedEvents', input);
  upsertSearchAttributes([{ key: SearchAttribute.layer, value: 'platform' }]);
  const { workflowId, runId } = workflowInfo();
  const control = proxyActivities<ReprocessActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 10 } });
  const alerts = proxyActivities<Pick<ReprocessActivities, 'sendAlert'>>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } });
  const maxAttempts = input.maxAttempts ?? 5;
  const running = new Set<number>();
  const outcomes: ReprocessOutcome[] = [];
  let paused = false;
  let claimed: ClaimedEvent[] = [];
  const skips = new Map<number, { note: string; by: string }>();
  setHandler(reprocessStatusQuery, () => ({
    claimed: claimed.map((e) => ({ eventId: e.eventId, table: e.table, errorType: e.errorType, attempts: e.attempts })),
    done: outcomes.length,
    running: [...running],
    paused,
  }));
  setHandler(skipSignal, ({ eventIds, note, by }) => {
    for (const id of eventIds) skips.set(id, { note, by: by ?? 'signal' });
  });
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));

  claimed = await control.claimFailedEvents({ limit: input.limit ?? 100, backoffSeconds: input.backoffSeconds ?? 300, eventIds: input.eventIds });

  async function retry(event: ClaimedEvent): Promise<{ kind: Exclude<ReprocessOutcome['kind'], 'skipped'>; detail: string }> {
    // A capture problem is one no retry can fix: it waits for a person, and resolves itself when
    // capture of its table (or source) works again.
    if (event.pipeline === 'capture') {
      return { kind: 'failed', detail: `capture waits for a person: fix the cause, then ${event.table ? `danau tables resume ${event.table}` : 'start the capture again'}` };
    }
    if (!event.table) return { kind: 'failed', detail: 'the event names no table: nothing to retry (skip it with danau failed skip)' };
    if (event.pipeline === 'table-pipeline') {
      try {
        const run = await executeChild(runTablePipeline, {
          workflowId: WorkflowId.tablePipeline(event.table),
          args: [{ table: event.table }],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        });
        if (run.outcome === 'deferred') return { kind: 'deferred', detail: 'another run of the table holds its steps; retried on the next round' };
        if (run.outcome === 'completed') return { kind: 'resolved', detail: `the table's pipeline completed: ${run.steps.map((s) => `${s.name} ${s.status}`).join(', ')}` };
        const stop = run.steps.find((s) => s.status === 'stopped' || s.status === 'failed');
        return { kind: 'failed', detail: stop ? `${stop.name}: ${stop.detail}` : `the pipeline ended ${run.outcome}` };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'deferred', detail: 'the table pipeline is running now; retried on the next round' };
        if (isCancellation(err)) throw err;
        return { kind: 'failed', detail: message(err) };
      }
    }
    if (event.pipeline === 'lake-upsert' && (event.errorType === ErrorType.UncastableValue || event.errorType === ErrorType.StaleChange)) {
      const ref = event.dataRef as { uri?: unknown; batchId?: unknown; rows?: unknown };
      if (typeof ref.uri !== 'string' || typeof ref.batchId !== 'string') return { kind: 'failed', detail: 'the event has no data reference to replay' };
      try {
        // Under the table's lake-upsert id: a replay and the table's lake step are never two Hudi writers at once.
        const replay = await executeChild(replayLakeEvent, {
          workflowId: WorkflowId.upsertLakeTable(event.table),
          args: [{ table: event.table, eventId: event.eventId, attempt: event.attempts, errorType: event.errorType, dataRef: { uri: ref.uri, batchId: ref.batchId, rows: Number(ref.rows ?? 0) } }],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        });
        if (replay.rowsStillSetAside === 0) return { kind: 'resolved', detail: `replayed: ${replay.rowsApplied} row(s) applied at ${replay.instant ?? '-'}` };
        return { kind: 'failed', detail: `${replay.rowsStillSetAside} row(s) still set aside (${replay.reason}), at ${replay.stillSetAsideUri ?? '-'}` };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'deferred', detail: "the table's lake step is running now; replayed on the next round" };
        if (isCancellation(err)) throw err;
        return { kind: 'failed', detail: message(err) };
      }
    }
    return { kind: 'failed', detail: `no retry is known for ${event.pipeline} / ${event.errorType}` };
  }

  // A few at a time: each table pipeline or replay may start a Spark job.
  const queue = [...claimed];
  const concurrency = Math.max(1, input.concurrency ?? 4);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let event = queue.shift(); event; event = queue.shift()) {
        await condition(() => !paused);
        const skip = skips.get(event.eventId);
        if (skip) {
          await control.skipFailedEvents({ eventIds: [event.eventId], by: skip.by, note: skip.note });
          outcomes.push({ eventId: event.eventId, table: event.table, kind: 'skipped', status: 'skipped', detail: `skipped by ${skip.by}: ${skip.note}` });
          continue;
        }
        running.add(event.eventId);
        const tried = await retry(event);
        const settled = await control.settleFailedEvent({ eventId: event.eventId, kind: tried.kind, detail: tried.detail, maxAttempts, by: workflowId });
        running.delete(event.eventId);
        outcomes.push({ eventId: event.eventId, table: event.table, kind: tried.kind, status: settled.status, detail: tried.detail });
        if (settled.status === 'dead_letter') {
          await alerts.sendAlert({
            kind: 'dead_letter',
            table: event.table ?? undefined,
            summary: `failed event ${event.eventId} (${event.errorType}${event.table ? ` on ${event.table}` : ''}) is dead-lettered after ${settled.attempts} attempt(s): ${tried.detail}`,
            details: { eventId: event.eventId, pipeline: event.pipeline, reason: event.reason },
            workflowId,
            runId,
            at: new Date().toISOString(),
          }).catch((err: unknown) => {
            // Undelivered, it is still in the audit log and the event is dead-lettered: carry on.
            if (isCancellation(err)) throw err;
            log.warn(`dead-letter alert for event ${event.eventId} not delivered: ${message(err)}`);
          });
        }
      }
    }),
  );
  return {
    claimed: claimed.length,
    outcomes,
    resolved: outcomes.filter((o) => o.status === 'resolved').length,
    retryLater: outcomes.filter((o) => o.status === 'pending').length,
    deadLettered: outcomes.filter((o) => o.status === 'dead_letter').length,
  };
}
