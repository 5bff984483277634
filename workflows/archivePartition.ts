// Archive one raw-zone partition (a table's day or month): the seed's zipping script as a workflow
// whose dangerous steps are separate activities, each with its own retry policy.
//   1. list     the partition's files the lake has consumed and no verified archive holds; recorded
//               as the archive's plan (or the unfinished archive found and resumed);
//   2. build    stream them into a zip, uploaded as a Standard-IA multipart upload with a CRC-32
//               checksum, at a key fixed per partition (a rerun overwrites, never duplicates);
//   3. verify   read the zip's central directory back (and, by default, every entry) and check each
//               name, size and CRC-32 against the plan; record the archive as verified;
//   4. approve  (requireApproval) report what would be deleted and the saving, wait for approveDelete;
//   5. delete   the verified originals, in DeleteObjects batches of at most 1,000 keys, skipping any
//               that changed since listing.
// A worker killed at any point leaves the originals, or a verified recorded archive, or both: only
// step 5 deletes, only what step 3 verified. Answers `status`; `pause` holds it between steps.
import { ActivityFailure, ApplicationFailure, condition, defineQuery, defineSignal, log, proxyActivities, setHandler, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute, WorkflowId, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import type { ArchiveEstimate, PriceOverrides } from '../lib/archive/cost';
import type { ArchiveLevel } from '../lib/archive/partition';
import type { ArchiveStatus } from '../lib/archive/store';

const VERIFICATION_FAILED = ErrorType.ArchiveVerificationFailed;
const INVALID_REQUEST = ErrorType.InvalidArchiveRequest;

/** archive-partition/<source.schema.table>/<level>/<partition>: one run per partition at a time. */
export function archivePartitionWorkflowId(table: string, level: ArchiveLevel, partition: string): string {
  return WorkflowId.archivePartition(table, level, partition);
}

export type ArchivePartitionInput = WorkflowInput<'archivePartition'>;

export interface PartitionPlan {
  table: string;
  level: ArchiveLevel;
  partition: string;
  /** null when there is nothing to archive. */
  archiveId: number | null;
  generation: number;
  status: ArchiveStatus | 'nothing';
  files: number;
  bytes: number;
  zipBucket: string;
  zipKey: string;
  /** An unfinished archive of this partition was found and is carried on. */
  resumed: boolean;
  /** Files of the partition the lake has not consumed yet: left in place. */
  notConsumed: number;
  /** Files a verified archive already holds. */
  alreadyArchived: number;
  message: string;
}

export interface BuiltZip {
  archiveId: number;
  zipKey: string;
  zipBytes: number;
  files: number;
  /** Listed files left out of the zip (vanished or changed since listing): not claimed, not deleted. */
  skipped: number;
  originalBytes: number;
  crc32: string | null;
  sha256: string | null;
  /** The zip was already built (and recorded) by an earlier attempt. */
  reused: boolean;
  /** Incomplete multipart uploads of this zip (from a killed attempt) that were aborted first. */
  abortedUploads: number;
  /** Every listed file vanished or changed: no zip, nothing claimed. */
  empty: boolean;
}

export interface VerifiedArchive {
  archiveId: number;
  files: number;
  originalBytes: number;
  zipBytes: number;
  /** Entries read back and checked byte for byte. */
  deepChecked: number;
  estimate: ArchiveEstimate;
}

export interface DeletionProgress {
  archiveId: number;
  deleted: number;
  /** Gone before we deleted them (someone else did): the zip holds them. */
  alreadyGone: number;
  /** Changed since they were zipped: kept, no longer claimed by this archive. */
  changed: number;
  /** Per-key errors (access denied, throttling): still in place, tried again. */
  failed: number;
  failedKeys: string[];
  /** Originals of this archive still to delete after this call. */
  remaining: number;
  /** Files the archive holds for good (deleted, or still to delete), after this call. */
  claimed: number;
}

export type ArchiveOutcome = 'archived' | 'nothing-to-archive' | 'verification-failed' | 'not-approved' | 'deletion-incomplete';

export interface ArchivePartitionResult {
  outcome: ArchiveOutcome;
  table: string;
  level: ArchiveLevel;
  partition: string;
  archiveId: number | null;
  zipKey: string | null;
  files: number;
  originalBytes: number;
  zipBytes: number;
  deleted: number;
  alreadyGone: number;
  changed: number;
  estimate: ArchiveEstimate | null;
  message: string;
}

export interface PendingApproval {
  files: number;
  originalBytes: number;
  zipBytes: number;
  zipKey: string;
  monthlySaving: number;
  currency: string;
}

export interface ArchivePartitionStatus {
  table: string;
  partition: string;
  phase: 'listing' | 'building' | 'verifying' | 'awaiting-approval' | 'deleting' | 'done';
  paused: boolean;
  plan: PartitionPlan | null;
  pendingApproval: PendingApproval | null;
  deleted: number;
  remaining: number | null;
}

export interface ArchivePartitionActivities {
  listArchivePartition: (input: { table: string; partition: string; level?: ArchiveLevel }) => Promise<PartitionPlan>;
  buildArchiveZip: (input: { archiveId: number }) => Promise<BuiltZip>;
  verifyArchive: (input: { archiveId: number; deep: boolean; prices?: PriceOverrides }) => Promise<VerifiedArchive>;
  deleteArchivedOriginals: (input: { archiveId: number; maxKeys: number; batchKeys: number }) => Promise<DeletionProgress>;
  abortArchiveUploads: (input: { archiveId: number }) => Promise<number>;
}

export const archivePartitionStatusQuery = defineQuery<ArchivePartitionStatus>('status');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const approveDeleteSignal = defineSignal('approveDelete');

export async function archivePartition(input: ArchivePartitionInput): Promise<ArchivePartitionResult> {
  input = parseWorkflowInput('archivePartition', input);
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: input.table },
    { key: SearchAttribute.layer, value: 'archive' },
    { key: SearchAttribute.partition, value: input.partition },
  ]);
  const io = siblingQueue(workflowInfo().taskQueue, 'io');
  const heartbeatTimeout = `${input.heartbeatTimeoutSeconds ?? 60} seconds`;
  const nonRetryableErrorTypes = [ErrorType.InvalidTableDefinition, ErrorType.ObjectStoreMisconfigured, VERIFICATION_FAILED, INVALID_REQUEST];
  // Listing and recording: quick, safe to repeat.
  const listing = proxyActivities<ArchivePartitionActivities>({
    taskQueue: io,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout,
    retry: { maximumAttempts: 10, initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
  });
  // The build streams the whole partition: a long step, restarted from scratch (the same zip key,
  // orphaned parts aborted first) when its worker dies.
  const building = proxyActivities<ArchivePartitionActivities>({
    taskQueue: io,
    startToCloseTimeout: '6 hours',
    heartbeatTimeout,
    retry: { maximumAttempts: 8, initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '2 minutes', nonRetryableErrorTypes },
  });
  // Verification reads the zip back; a mismatch is final for this zip (the next run rebuilds it).
  const verifying = proxyActivities<ArchivePartitionActivities>({
    taskQueue: io,
    startToCloseTimeout: '3 hours',
    heartbeatTimeout,
    retry: { maximumAttempts: 5, initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
  });
  // Deletion goes in slices; each is safe to repeat (it re-lists before deleting).
  const deleting = proxyActivities<ArchivePartitionActivities>({
    taskQueue: io,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout,
    retry: { maximumAttempts: 10, initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes },
  });

  let paused = false;
  let approved = false;
  const status: ArchivePartitionStatus = { table: input.table, partition: input.partition, phase: 'listing', paused, plan: null, pendingApproval: null, deleted: 0, remaining: null };
  setHandler(archivePartitionStatusQuery, () => ({ ...status, paused }));
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  setHandler(approveDeleteSignal, () => void (approved = true));

  const result: ArchivePartitionResult = {
    outcome: 'archived',
    table: input.table,
    level: input.level ?? 'day',
    partition: input.partition,
    archiveId: null,
    zipKey: null,
    files: 0,
    originalBytes: 0,
    zipBytes: 0,
    deleted: 0,
    alreadyGone: 0,
    changed: 0,
    estimate: null,
    message: '',
  };
  const done = (outcome: ArchiveOutcome, message: string): ArchivePartitionResult => {
    status.phase = 'done';
    log.info(message, { table: input.table, partition: input.partition, outcome });
    return { ...result, outcome, message };
  };

  await condition(() => !paused);
  const plan = await listing.listArchivePartition({ table: input.table, partition: input.partition, level: input.level });
  status.plan = plan;
  Object.assign(result, { level: plan.level, archiveId: plan.archiveId, zipKey: plan.status === 'nothing' ? null : plan.zipKey, files: plan.files, originalBytes: plan.bytes });
  if (plan.status === 'nothing' || plan.archiveId === null) return done('nothing-to-archive', plan.message);
  const archiveId = plan.archiveId;

  try {
    if (plan.status !== 'verified') {
      if (plan.status !== 'uploaded') {
        await condition(() => !paused);
        status.phase = 'building';
        const built = await building.buildArchiveZip({ archiveId });
        if (built.empty) return done('nothing-to-archive', `${input.table} ${plan.partition}: every listed file vanished or changed before it was zipped; nothing archived`);
        Object.assign(result, { files: built.files, originalBytes: built.originalBytes, zipBytes: built.zipBytes });
      }
      await condition(() => !paused);
      status.phase = 'verifying';
      try {
        const verified = await verifying.verifyArchive({ archiveId, deep: input.deepVerify ?? true, prices: input.prices });
        Object.assign(result, { files: verified.files, originalBytes: verified.originalBytes, zipBytes: verified.zipBytes, estimate: verified.estimate });
      } catch (err) {
        const type = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
        if (type !== VERIFICATION_FAILED) throw err;
        return done('verification-failed', (err as ActivityFailure).cause!.message);
      }
    } else {
      // Resumed after verification (a run that stopped while deleting): the projected figures are
      // not recomputed; the deletion carries on.
      Object.assign(result, { files: plan.files, originalBytes: plan.bytes });
    }

    if (input.requireApproval) {
      status.phase = 'awaiting-approval';
      status.pendingApproval = {
        files: result.files,
        originalBytes: result.originalBytes,
        zipBytes: result.zipBytes,
        zipKey: plan.zipKey,
        monthlySaving: result.estimate?.monthlySaving ?? 0,
        currency: result.estimate?.currency ?? 'USD',
      };
      log.info('archive verified; waiting for approveDelete', { table: input.table, partition: input.partition, ...status.pendingApproval });
      const gotIt = await condition(() => approved, `${input.approvalTimeoutHours ?? 168} hours`);
      if (!gotIt) {
        return done('not-approved', `${input.table} ${plan.partition}: archive ${archiveId} is verified (s3://${plan.zipBucket}/${plan.zipKey}); its ${result.files} originals were kept because approveDelete did not come`);
      }
      status.pendingApproval = null;
    }

    status.phase = 'deleting';
    const batchKeys = Math.min(1000, Math.max(1, input.deleteBatchKeys ?? 1000));
    let stalls = 0;
    for (;;) {
      await condition(() => !paused);
      const step = await deleting.deleteArchivedOriginals({ archiveId, maxKeys: batchKeys * 10, batchKeys });
      result.deleted += step.deleted;
      result.alreadyGone += step.alreadyGone;
      result.changed += step.changed;
      status.deleted = result.deleted + result.alreadyGone;
      status.remaining = step.remaining;
      result.files = step.claimed;
      if (step.remaining === 0) break;
      if (step.deleted + step.alreadyGone + step.changed > 0) {
        stalls = 0;
        continue;
      }
      // Only per-key errors: wait and try again, then leave the rest for the next run.
      if (++stalls >= 5) {
        return done(
          'deletion-incomplete',
          `${input.table} ${plan.partition}: archive ${archiveId} is verified; ${step.remaining} originals could not be deleted (e.g. ${step.failedKeys.slice(0, 3).join(', ')}) and stay in place; the next run tries again`,
        );
      }
      await sleep(`${30 * stalls} seconds`);
    }
  } catch (err) {
    // Whatever failed, leave no incomplete multipart upload behind (the originals are untouched or
    // already in a verified archive).
    await listing.abortArchiveUploads({ archiveId }).catch(() => undefined);
    throw err;
  }
  return done(
    'archived',
    `${input.table} ${plan.partition}: ${result.files} files archived in s3://${plan.zipBucket}/${plan.zipKey} (${result.zipBytes} bytes)` +
      `${result.changed ? `; ${result.changed} changed since they were zipped and were kept` : ''}`,
  );
}
