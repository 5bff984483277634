// Capture one source database into the raw zone, window after window: the local stand-in for a
// DMS replication task. Each window is one activity that reads the committed changes after the
// saved position, writes them to S3 as DMS files, and only then moves the position on. The loop
// answers `status`, obeys `pause`/`resume`, and continues as new before its history grows large.
import { condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';

export type CaptureSourceInput = WorkflowInput<'captureSource'>;

export interface CaptureTotals {
  windows: number;
  changes: number;
  files: number;
  perTable: Record<string, { changes: number; files: number }>;
}

export interface CapturedFile {
  table: string;
  key: string;
  changes: number;
}

export interface CaptureWindowResult {
  source: string;
  /** The source position after this window (an LSN or binlog file:position). */
  position: string;
  transactions: number;
  changes: number;
  files: CapturedFile[];
  /** Tables whose full load ran in this window. */
  loaded: { table: string; rows: number; files: number }[];
  /** Seconds between the newest commit captured and the end of the window. */
  lagSeconds: number | null;
  /** Tables of the source whose capture is suspended on a problem a retry cannot fix (danau tables resume). */
  suspended: SuspendedCapture[];
}

export interface SuspendedCapture {
  table: string;
  errorType: string;
  /** Names the table and column, never a value. */
  reason: string;
  since: string;
}

export interface CaptureStatus {
  source: string;
  paused: boolean;
  totals: CaptureTotals;
  last: CaptureWindowResult | null;
  /** As of the last window: the tables whose capture is suspended, the others going on. */
  suspended: SuspendedCapture[];
}

export interface CaptureActivities {
  captureWindow: (input: { source: string; maxChanges: number }) => Promise<CaptureWindowResult>;
}

export const captureStatusQuery = defineQuery<CaptureStatus>('status');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

const ingestionActivities = () =>
  proxyActivities<CaptureActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'io'),
    startToCloseTimeout: '30 minutes',
    // The window heartbeats after each step (read, each file written): a worker that dies is noticed
    // within this and the window is redone elsewhere.
    heartbeatTimeout: '15 seconds',
    // A misconfigured source (a missing variable or secret, a refused login) is never retried,
    // whatever raised it: a person must fix it.
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.SourceMisconfigured] },
  });

// Enough windows to keep the history well under Temporal's limits (a few events each).
const WINDOWS_PER_RUN = 500;

export async function captureSource(input: CaptureSourceInput): Promise<CaptureStatus> {
  input = parseWorkflowInput('captureSource', input);
  const windowSeconds = input.windowSeconds ?? 60;
  const maxChanges = input.maxChanges ?? 50_000;
  const totals: CaptureTotals = input.totals ?? { windows: 0, changes: 0, files: 0, perTable: {} };
  let paused = input.paused ?? false;
  let last: CaptureWindowResult | null = null;
  const ingestion = ingestionActivities();
  upsertSearchAttributes([{ key: SearchAttribute.layer, value: 'raw' }]);

  setHandler(captureStatusQuery, () => ({ source: input.source, paused, totals, last, suspended: last?.suspended ?? [] }));
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));

  for (let run = 0; ; run++) {
    await condition(() => !paused);
    const shown = JSON.stringify(last?.suspended ?? []);
    last = await ingestion.captureWindow({ source: input.source, maxChanges });
    // The Web UI shows a run's current details: the tables that stopped, while the rest go on.
    if (JSON.stringify(last.suspended) !== shown) setCurrentDetails(describeSuspended(last.suspended));
    totals.windows++;
    totals.changes += last.changes;
    totals.files += last.files.length;
    for (const f of last.files) {
      const t = (totals.perTable[f.table] ??= { changes: 0, files: 0 });
      t.changes += f.changes;
      t.files++;
    }
    if (input.maxWindows != null && totals.windows >= input.maxWindows) return { source: input.source, paused, totals, last, suspended: last.suspended };
    if (run + 1 >= WINDOWS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof captureSource>({ ...input, totals, paused });
    }
    // A full window takes the next one at once; otherwise wait, waking early on pause.
    if (last.changes < maxChanges) await condition(() => paused, `${windowSeconds} seconds`);
  }
}

function describeSuspended(suspended: SuspendedCapture[]): string {
  if (suspended.length === 0) return '';
  return [
    `**Capture suspended for ${suspended.length} table(s)**; the source's other tables go on. Fix the cause, then \`danau tables resume <table>\` (the table is reloaded).`,
    ...suspended.map((s) => `- \`${s.table}\` since ${s.since} (${s.errorType}): ${s.reason}`),
  ].join('\n');
}
