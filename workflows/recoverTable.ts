// Recover a table's archived raw files for a date range (the seed's recovery pipeline: table, schema,
// start and end date): find the verified archives that hold files dated in the range, read just those
// entries out of each zip by ranged GETs, check each against its recorded size and CRC-32, and
// upload it back to its original key (or under targetPrefix) as a STANDARD object. Archives are
// recovered a few at a time, entries within one at a bounded concurrency. Running it again is
// harmless: files already in place are counted and left alone; a different file at a target key is
// never overwritten (a conflict). Recovered files can be fed to the lake job to rebuild a table.
// Answers `status`; `pause` holds it between archives.
import { ApplicationFailure, condition, defineQuery, defineSignal, log, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute, WorkflowId, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import type { ArchiveLevel } from '../lib/archive/partition';

/** recover-table/<source.schema.table>/<start>..<end> */
export function recoverTableWorkflowId(table: string, startDate: string, endDate: string): string {
  return WorkflowId.recoverTable(table, startDate, endDate);
}

export type RecoverTableInput = WorkflowInput<'recoverTable'>;

export interface RecoverableArchive {
  archiveId: number;
  level: ArchiveLevel;
  partition: string;
  generation: number;
  zipBucket: string;
  zipKey: string;
  files: number;
  bytes: number;
}

export interface RecoveredArchive {
  archiveId: number;
  partition: string;
  files: number;
  recovered: number;
  skippedExisting: number;
  conflicts: number;
  corrupt: number;
  verified: number;
  bytes: number;
  conflictKeys: string[];
  corruptKeys: string[];
  /** The zip is no longer the object that was verified (replaced since): entries were still CRC-checked. */
  zipChanged: boolean;
}

export interface RecoverTableActivities {
  findArchivesToRecover: (input: { table: string; startDate: string; endDate: string }) => Promise<{ targetBucket: string; archives: RecoverableArchive[] }>;
  recoverArchiveEntries: (input: { archiveId: number; startDate: string; endDate: string; targetBucket: string; targetPrefix: string; concurrency: number }) => Promise<RecoveredArchive>;
}

export interface RecoverTableTotals {
  archives: number;
  files: number;
  recovered: number;
  skippedExisting: number;
  conflicts: number;
  corrupt: number;
  verified: number;
  bytes: number;
}

export interface RecoverTableResult {
  table: string;
  startDate: string;
  endDate: string;
  target: { bucket: string; prefix: string };
  totals: RecoverTableTotals;
  archives: RecoveredArchive[];
  message: string;
}

export interface RecoverTableStatus {
  table: string;
  paused: boolean;
  archives: number;
  done: number;
  running: number[];
  totals: RecoverTableTotals;
}

export const recoverTableStatusQuery = defineQuery<RecoverTableStatus>('status');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export async function recoverTable(input: RecoverTableInput): Promise<RecoverTableResult> {
  input = parseWorkflowInput('recoverTable', input);
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: input.table },
    { key: SearchAttribute.layer, value: 'archive' },
  ]);
  for (const [what, v] of [['startDate', input.startDate], ['endDate', input.endDate]] as const) {
    if (typeof v !== 'string' || !DATE.test(v)) throw ApplicationFailure.create({ type: ErrorType.InvalidArchiveRequest, message: `${what} ${JSON.stringify(v)} is not a date (YYYY-MM-DD)`, nonRetryable: true });
  }
  if (input.startDate > input.endDate) throw ApplicationFailure.create({ type: ErrorType.InvalidArchiveRequest, message: `startDate ${input.startDate} is after endDate ${input.endDate}`, nonRetryable: true });

  const io = proxyActivities<RecoverTableActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'io'),
    startToCloseTimeout: '3 hours',
    heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? 60} seconds`,
    retry: { maximumAttempts: 10, initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', nonRetryableErrorTypes: [ErrorType.InvalidTableDefinition, ErrorType.InvalidArchiveRequest] },
  });

  let paused = false;
  const totals: RecoverTableTotals = { archives: 0, files: 0, recovered: 0, skippedExisting: 0, conflicts: 0, corrupt: 0, verified: 0, bytes: 0 };
  const running = new Set<number>();
  const results: RecoveredArchive[] = [];
  setHandler(recoverTableStatusQuery, () => ({ table: input.table, paused, archives: totals.archives, done: results.length, running: [...running], totals: { ...totals } }));
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));

  const found = await io.findArchivesToRecover({ table: input.table, startDate: input.startDate, endDate: input.endDate });
  const targetBucket = input.targetBucket ?? found.targetBucket;
  const targetPrefix = input.targetPrefix ?? '';
  totals.archives = found.archives.length;
  totals.files = found.archives.reduce((n, a) => n + a.files, 0);
  const finish = (message: string): RecoverTableResult => {
    log.info(message, { table: input.table, ...totals });
    return { table: input.table, startDate: input.startDate, endDate: input.endDate, target: { bucket: targetBucket, prefix: targetPrefix }, totals, archives: results, message };
  };
  if (found.archives.length === 0) return finish(`${input.table}: no verified archive holds files dated ${input.startDate}..${input.endDate}; nothing to recover`);

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < found.archives.length) {
      // Take the next archive before waiting: another worker loop may run while this one waits.
      const a = found.archives[next++]!;
      await condition(() => !paused);
      running.add(a.archiveId);
      try {
        const r = await io.recoverArchiveEntries({ archiveId: a.archiveId, startDate: input.startDate, endDate: input.endDate, targetBucket, targetPrefix, concurrency: input.concurrency ?? 8 });
        results.push(r);
        totals.recovered += r.recovered;
        totals.skippedExisting += r.skippedExisting;
        totals.conflicts += r.conflicts;
        totals.corrupt += r.corrupt;
        totals.verified += r.verified;
        totals.bytes += r.bytes;
      } finally {
        running.delete(a.archiveId);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, input.archiveConcurrency ?? 2) }, worker));
  results.sort((x, y) => x.partition.localeCompare(y.partition) || x.archiveId - y.archiveId);
  const problems = [
    ...(totals.conflicts ? [`${totals.conflicts} target keys already held different bytes and were left alone`] : []),
    ...(totals.corrupt ? [`${totals.corrupt} entries failed their CRC-32/size check and were not uploaded (${results.flatMap((r) => r.corruptKeys).slice(0, 3).join(', ')})`] : []),
  ];
  return finish(
    `${input.table} ${input.startDate}..${input.endDate}: ${totals.recovered} files recovered (${totals.bytes} bytes), ${totals.skippedExisting} already in place, ` +
      `from ${totals.archives} archives into s3://${targetBucket}/${targetPrefix}${problems.length ? `; ${problems.join('; ')}` : ''}`,
  );
}
