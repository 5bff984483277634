// Replaying rows a lake batch set aside (a failed event of type UncastableValue or StaleChange):
// describing the replay to the lake job (scripts/spark/lake_job.py replay) and reading its result.
// Pure, like batches.ts: the same event and attempt always make the same replay id, spec and places,
// so a retried activity finds the work of the attempt before it.
import type { DanauConfig } from '../config';
import type { TableRecord } from '../control-plane/store';
import { buildUpsertSpec, type LakeUpsertSpec } from './batches';
import type { LakeReplayResult, LakeReplaySpec } from './job-contract';

/** What the lake job set aside: `quarantine` (a value that does not cast) or `stale` (older than the stored row). */
export type SetAsideKind = 'quarantine' | 'stale';
export type SetAsideErrorType = 'StaleChange' | 'UncastableValue';

/**
 * The failure type of a replay whose rows are gone: the set-aside location, or a raw file the rows
 * came from (archived and not recovered). Not retryable: the data has to be put back first.
 */

export interface ReplayLakeRowsInput {
  /** source.schema.table */
  table: string;
  eventId: number;
  /**
   * Which replay of the event this is (the event's attempts count as the reprocessing loop claims
   * it). Part of the replay id: an activity retried within one attempt re-attaches to its job and
   * finds its commit; the next attempt is a new replay of what the previous one left set aside.
   */
  attempt: number;
  errorType: SetAsideErrorType;
  /** The event's data_ref, as commitLakeBatch wrote it. */
  dataRef: { uri: string; batchId: string; rows: number };
}

export interface ReplayLakeRowsResult {
  /** Rows upserted or deleted by this replay (by an earlier run of it, when alreadyApplied). */
  rowsApplied: number;
  /** Rows that still do not cast, are older than the stored row, or were not found in their raw file. */
  rowsStillSetAside: number;
  /** Where those rows are now, in the format of the event's rows (null when none). */
  stillSetAsideUri: string | null;
  /** The Hudi instant of the replay's commit (null when it wrote nothing). */
  instant: string | null;
  /** One line for people: what was applied, what is still set aside and why. */
  reason: string;
  replayId: string;
  /** The replay's commit was already in the table's timeline (a retried activity): nothing was applied twice. */
  alreadyApplied: boolean;
  /** The set-aside rows this replay read: the event's, or what its previous replay left. */
  replayedFrom: string;
  /** The lake job's figures (null when an earlier replay had already left nothing to do). */
  figures: LakeReplayResult | null;
}

export interface LakeReplayActivities {
  replayLakeRows: (input: ReplayLakeRowsInput) => Promise<ReplayLakeRowsResult>;
}

export function setAsideKind(errorType: string): SetAsideKind | null {
  return errorType === 'UncastableValue' ? 'quarantine' : errorType === 'StaleChange' ? 'stale' : null;
}

/** `replay-<event>-<attempt>`. */
export function replayId(eventId: number, attempt: number): string {
  return `replay-${eventId}-${attempt}`;
}

/** The attempt a replay id names, or null when it is not one of this event's. */
export function replayAttempt(id: string, eventId: number): number | null {
  const m = new RegExp(`^replay-${eventId}-(\\d+)$`).exec(id);
  return m ? Number(m[1]) : null;
}

/** The batch id a replay's commit carries: the set-aside batch's id and the replay's, so it is unique in the table's timeline. */
export function replayBatchId(sourceBatchId: string, id: string): string {
  return `${sourceBatchId}-${id}`;
}

/** `s3://bucket/prefix/`: bucket and key prefix (ending in `/`), or null. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } | null {
  const m = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1]!, prefix: m[2]!.endsWith('/') ? m[2]! : `${m[2]!}/` } : null;
}

/** The set-aside location a replay's leftovers hang under: the event's own, never a replay's (so they do not nest). */
export function setAsideRoot(uri: string): string {
  return uri.replace(/__retry\/.*$/, '').replace(/\/+$/, '');
}

/** Where a replay's spec, result and leftovers live: beside the batch that set the rows aside. */
export function replayLocations(config: Pick<DanauConfig, 'buckets'>, sourceBatchId: string, id: string, setAsideUri: string): { replaysPrefix: string; specKey: string; resultKey: string; stillSetAsideUri: string } {
  const replaysPrefix = `_danau/batches/${sourceBatchId}/replays/`;
  return {
    replaysPrefix,
    specKey: `${replaysPrefix}${id}/spec.json`,
    resultKey: `${replaysPrefix}${id}/result.json`,
    stillSetAsideUri: `${setAsideRoot(setAsideUri)}__retry/${id}/`,
  };
}

export type { LakeReplayResult, LakeReplaySpec } from './job-contract';

/**
 * The lake job's spec for a replay: the table's settings and its current lake column types (a person
 * may have widened one since), as buildUpsertSpec gives them, plus the rows to replay.
 */
export function buildReplaySpec(
  config: Pick<DanauConfig, 'buckets' | 'timezone'>,
  table: TableRecord,
  replay: { eventId: number; attempt: number; kind: SetAsideKind; sourceBatchId: string; setAsideUri: string; rootUri: string },
  catalog: LakeUpsertSpec['catalog'] = null,
): LakeReplaySpec {
  const id = replayId(replay.eventId, replay.attempt);
  const at = replayLocations(config, replay.sourceBatchId, id, replay.rootUri);
  const { files: _files, quarantineUri: _q, staleUri: _s, ...base } = buildUpsertSpec(config, table, replayBatchId(replay.sourceBatchId, id), [], catalog);
  return {
    ...base,
    resultUri: `s3://${config.buckets.processed}/${at.resultKey}`,
    replayId: id,
    eventId: replay.eventId,
    sourceBatchId: replay.sourceBatchId,
    kind: replay.kind,
    setAsideUri: replay.setAsideUri,
    stillSetAsideUri: at.stillSetAsideUri,
  };
}


/** The activity's answer from the job's figures. */
export function summariseReplay(result: LakeReplayResult): Pick<ReplayLakeRowsResult, 'rowsApplied' | 'rowsStillSetAside' | 'stillSetAsideUri' | 'instant' | 'reason' | 'alreadyApplied'> {
  const rowsApplied = result.rowsUpserted + result.rowsDeleted;
  const parts = [`${result.rowsRead} of ${result.rowsSetAside} set-aside row(s) replayed from their raw files`, `${rowsApplied} applied (${result.rowsUpserted} upserted, ${result.rowsDeleted} deleted)`];
  if (result.rowsDuplicate > 0) parts.push(`${result.rowsDuplicate} already in the table`);
  if (result.rowsStillSetAside > 0) {
    const why = [
      result.rowsQuarantined > 0 ? `${result.rowsQuarantined} still do not cast` : '',
      result.rowsStale > 0 ? `${result.rowsStale} older than the stored row` : '',
      result.rowsNotFound > 0 ? `${result.rowsNotFound} not found in their raw files` : '',
    ].filter(Boolean);
    parts.push(`${result.rowsStillSetAside} still set aside (${why.join(', ')})${result.samples[0] ? `, e.g. ${result.samples[0]}` : ''}`);
  } else {
    parts.push('none still set aside');
  }
  return {
    rowsApplied,
    rowsStillSetAside: result.rowsStillSetAside,
    stillSetAsideUri: result.stillSetAsideUri,
    instant: result.instant,
    alreadyApplied: result.alreadyApplied,
    reason: `${result.replayId}${result.alreadyApplied ? ` (already applied at ${result.instant ?? '-'})` : ''}: ${parts.join('; ')}`,
  };
}
