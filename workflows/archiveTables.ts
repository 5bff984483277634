// The scheduled archival: scan every onboarded table for raw partitions older than the table's
// archiveAfterDays at its archiveLevel, whose files the lake has all consumed (committed lake
// batches) and that no verified archive holds yet; estimate what archiving them costs and saves
// from the price table; then (unless dryRun) archive each one as an archivePartition child, a few
// at a time, and record the storage measured before and after in `archive_runs`.
// Answers `status`; `pause` stops starting partitions and is passed on to the running ones.
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute, WorkflowId, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import type { ArchiveEstimate, PriceOverrides, Tally } from '../lib/archive/cost';
import type { ArchiveLevel } from '../lib/archive/partition';
import { archivePartition, archivePartitionWorkflowId, type ArchiveOutcome, type ArchivePartitionInput, type ArchivePartitionResult } from './archivePartition';

/** archive-tables/<label> (a schedule gives each run its own label). */
export function archiveTablesWorkflowId(label: string): string {
  return WorkflowId.archiveTables(label);
}

export type ArchiveTablesInput = WorkflowInput<'archiveTables'>;

export interface ArchiveCandidate {
  table: string;
  level: ArchiveLevel;
  partition: string;
  files: number;
  bytes: number;
  /** An unfinished archive of the partition exists (a stopped run): it is resumed. */
  resume: boolean;
  estimate: ArchiveEstimate;
}

export interface SkippedPartition {
  table: string;
  partition: string | null;
  reason: string;
}

export interface ArchiveScan {
  asOf: string;
  candidates: ArchiveCandidate[];
  skipped: SkippedPartition[];
  /** More partitions qualified than maxPartitions. */
  truncated: boolean;
  estimate: ArchiveEstimate;
}

export interface StorageMeasure {
  tallies: Tally[];
  monthlyCost: number;
  currency: string;
}

export interface PartitionRef {
  table: string;
  level: ArchiveLevel;
  partition: string;
}

export interface ArchiveTablesActivities {
  scanArchivableTables: (input: { tables?: string[]; asOf: string; maxPartitions: number; prices?: PriceOverrides; compressionRatio?: number }) => Promise<ArchiveScan>;
  measureArchiveStorage: (input: { partitions: PartitionRef[]; prices?: PriceOverrides }) => Promise<StorageMeasure>;
  recordArchiveRun: (input: {
    runId: string;
    dryRun: boolean;
    asOf: string;
    scan: ArchiveScan;
    before: StorageMeasure | null;
    after: StorageMeasure | null;
    outcomes: PartitionOutcome[];
  }) => Promise<void>;
}

export interface PartitionOutcome extends PartitionRef {
  outcome: ArchiveOutcome | 'already-running' | 'failed';
  files: number;
  originalBytes: number;
  zipBytes: number;
  message: string;
}

export interface ArchiveTablesResult {
  asOf: string;
  dryRun: boolean;
  estimate: ArchiveEstimate;
  candidates: number;
  skipped: SkippedPartition[];
  truncated: boolean;
  outcomes: PartitionOutcome[];
  before: StorageMeasure | null;
  after: StorageMeasure | null;
  counts: Record<PartitionOutcome['outcome'], number>;
}

export interface ArchiveTablesStatus {
  phase: 'scanning' | 'estimated' | 'archiving' | 'measuring' | 'done';
  paused: boolean;
  asOf: string | null;
  estimate: ArchiveEstimate | null;
  candidates: number;
  done: number;
  running: string[];
  counts: Record<PartitionOutcome['outcome'], number>;
}

export const archiveTablesStatusQuery = defineQuery<ArchiveTablesStatus>('status');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

const emptyCounts = (): Record<PartitionOutcome['outcome'], number> => ({
  archived: 0,
  'nothing-to-archive': 0,
  'verification-failed': 0,
  'not-approved': 0,
  'deletion-incomplete': 0,
  'already-running': 0,
  failed: 0,
});

export async function archiveTables(input: ArchiveTablesInput = {}): Promise<ArchiveTablesResult> {
  input = parseWorkflowInput('archiveTables', input);
  upsertSearchAttributes([{ key: SearchAttribute.layer, value: 'archive' }]);
  const info = workflowInfo();
  const io = proxyActivities<ArchiveTablesActivities>({
    taskQueue: siblingQueue(info.taskQueue, 'io'),
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? 60} seconds`,
    retry: { maximumAttempts: 5, initialInterval: '5 seconds', nonRetryableErrorTypes: [ErrorType.InvalidTableDefinition, ErrorType.InvalidArchiveRequest] },
  });
  const asOf = input.asOf ?? new Date(info.startTime).toISOString();
  if (Number.isNaN(Date.parse(asOf))) throw ApplicationFailure.create({ type: ErrorType.InvalidArchiveRequest, message: `asOf ${JSON.stringify(asOf)} is not a date`, nonRetryable: true });

  let paused = false;
  const running = new Map<string, string>(); // child workflow id -> partition label
  const outcomes: PartitionOutcome[] = [];
  const counts = emptyCounts();
  const status: ArchiveTablesStatus = { phase: 'scanning', paused, asOf, estimate: null, candidates: 0, done: 0, running: [], counts };
  setHandler(archiveTablesStatusQuery, () => ({ ...status, paused, running: [...running.values()], done: outcomes.length, counts: { ...counts } }));
  // Pause is passed on so a long partition stops between its own steps too.
  const forward = (signal: 'pause' | 'resume') => {
    for (const id of running.keys()) void getExternalWorkflowHandle(id).signal(signal).catch(() => undefined);
  };
  setHandler(pauseSignal, () => {
    paused = true;
    forward('pause');
  });
  setHandler(resumeSignal, () => {
    paused = false;
    forward('resume');
  });

  const scan = await io.scanArchivableTables({ tables: input.tables, asOf, maxPartitions: input.maxPartitions ?? 200, prices: input.prices, compressionRatio: input.compressionRatio });
  status.phase = 'estimated';
  status.estimate = scan.estimate;
  status.candidates = scan.candidates.length;
  const e = scan.estimate;
  log.info(
    `archive estimate: ${scan.candidates.length} partitions, ${e.files} files, ${e.originalBytes} bytes -> about ${e.zipBytes} zipped; ` +
      `storage ${e.monthlyBefore} -> ${e.monthlyAfter} ${e.currency}/month (saving ${e.monthlySaving}); one-time requests ${e.oneTimeRequests}; ` +
      `Standard-IA 30-day minimum ${e.minimumDurationCharge}; break-even ${e.breakEvenMonths ?? 'never'} months`,
    { asOf, skipped: scan.skipped.length, truncated: scan.truncated },
  );
  const refs: PartitionRef[] = scan.candidates.map((c) => ({ table: c.table, level: c.level, partition: c.partition }));
  const result = (before: StorageMeasure | null, after: StorageMeasure | null): ArchiveTablesResult => ({
    asOf,
    dryRun: input.dryRun === true,
    estimate: scan.estimate,
    candidates: scan.candidates.length,
    skipped: scan.skipped,
    truncated: scan.truncated,
    outcomes,
    before,
    after,
    counts: { ...counts },
  });

  if (input.dryRun || scan.candidates.length === 0) {
    await io.recordArchiveRun({ runId: `${info.workflowId}/${info.runId}`, dryRun: input.dryRun === true, asOf, scan, before: null, after: null, outcomes });
    status.phase = 'done';
    return result(null, null);
  }

  const before = await io.measureArchiveStorage({ partitions: refs, prices: input.prices });
  status.phase = 'archiving';
  const limit = Math.max(1, input.concurrency ?? 2);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < scan.candidates.length) {
      // Take the next partition before waiting: another worker loop may run while this one waits.
      const c = scan.candidates[next++]!;
      await condition(() => !paused);
      const id = archivePartitionWorkflowId(c.table, c.level, c.partition);
      const childInput: ArchivePartitionInput = {
        table: c.table,
        partition: c.partition,
        level: c.level,
        requireApproval: input.requireApproval,
        deepVerify: input.deepVerify,
        prices: input.prices,
        heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
      };
      const base = { table: c.table, level: c.level, partition: c.partition };
      let outcome: PartitionOutcome;
      try {
        const child = await startChild(archivePartition, { workflowId: id, args: [childInput] });
        running.set(id, `${c.table} ${c.partition}`);
        if (paused) void child.signal(pauseSignal).catch(() => undefined);
        const r: ArchivePartitionResult = await child.result();
        outcome = { ...base, outcome: r.outcome, files: r.files, originalBytes: r.originalBytes, zipBytes: r.zipBytes, message: r.message };
      } catch (err) {
        outcome =
          err instanceof WorkflowExecutionAlreadyStartedError
            ? { ...base, outcome: 'already-running', files: 0, originalBytes: 0, zipBytes: 0, message: `${id} is already running` }
            : { ...base, outcome: 'failed', files: 0, originalBytes: 0, zipBytes: 0, message: `${c.table} ${c.partition}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}` };
      } finally {
        running.delete(id);
      }
      outcomes.push(outcome);
      counts[outcome.outcome]++;
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));

  status.phase = 'measuring';
  const after = await io.measureArchiveStorage({ partitions: refs, prices: input.prices });
  await io.recordArchiveRun({ runId: `${info.workflowId}/${info.runId}`, dryRun: false, asOf, scan, before, after, outcomes });
  log.info(`archived: storage of the partitions ${before.monthlyCost} -> ${after.monthlyCost} ${after.currency}/month`, { counts });
  status.phase = 'done';
  return result(before, after);
}
