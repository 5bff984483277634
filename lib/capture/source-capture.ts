// What the capture activity needs from a source engine. PostgreSQL (a slot and pgoutput) and
// MySQL/MariaDB (the row-based binlog) each implement it, so the window logic (record the window,
// write files, then move the position) is written once.
import { ErrorType } from '../common/errors';
import { RawValueError, type SourceValue } from '../raw-zone/dms-file';
import type { LakeColumn } from '../tables/definition';
import type { CapturedTransaction } from './window';

export interface CapturedTable {
  /** source.schema.table */
  key: string;
  schema: string;
  table: string;
  primaryKey: string[];
  /** Lake types recorded at onboarding. */
  columns: LakeColumn[];
}

export interface SnapshotReader {
  /** Reads a table inside the snapshot, in primary-key order, `batchRows` rows at a time, values as text or bytes. */
  readTable(table: CapturedTable, batchRows: number, onBatch: (rows: Record<string, SourceValue>[]) => Promise<void>): Promise<number>;
}

export interface SnapshotPoint {
  /** Where CDC continues after this snapshot (an LSN, or binlog file:position). */
  resumePosition: string;
  /** The change-sequence prefix of full-load rows: just before the first change CDC will return. */
  seqPrefix: string;
}

export interface CaptureWindowRead {
  transactions: CapturedTransaction[];
  /** Where the next window starts; null when there was nothing new. */
  endPosition: string | null;
}

export type StreamState = 'new' | 'ok' | 'lost';

export interface SourceCapture {
  /** Makes the source ready to stream these tables (e.g. a publication). */
  prepare(tables: CapturedTable[]): Promise<void>;
  /**
   * `new`: nothing captured yet; `lost`: the saved position can no longer be read (re-snapshot).
   * `retryingFirstSnapshot`: an earlier first capture died before recording its position, so what
   * it left at the source (a replication slot) may be cleared and the snapshot taken again.
   */
  streamState(savedPosition: string | null, retryingFirstSnapshot: boolean): Promise<StreamState>;
  /** A consistent snapshot and the position where CDC continues after it. */
  withSnapshot<T>(first: boolean, work: (reader: SnapshotReader, point: SnapshotPoint) => Promise<T>): Promise<T>;
  /** Committed transactions after `from`: up to `uptoEnd` exactly when redoing a window, else about `maxChanges`. */
  read(tables: CapturedTable[], from: string, uptoEnd: string | null, maxChanges: number): Promise<CaptureWindowRead>;
  /** Lets the source forget what is now safely in S3. */
  release(position: string): Promise<void>;
  close(): Promise<void>;
}

export class CaptureError extends Error {
  /** `table` (source.schema.table) when the problem is that table's alone: only its capture stops. */
  constructor(message: string, readonly kind: 'lost-position' | 'bad-data', readonly table?: { key: string; column: string | null }) {
    super(message);
    this.name = 'CaptureError';
  }
}

/**
 * A problem of one table that no retry can fix (a value that does not fit its column, a column
 * capture cannot read): that table's capture is suspended and the rest of the source goes on.
 */
export interface TableProblem {
  table: string;
  column: string | null;
  errorType: ErrorType;
  /** Names the table and column (and change), never a value. */
  message: string;
}

/** The table problem an error is, or null when it is not one table's (then it fails the window). */
export function tableProblemOf(err: unknown): TableProblem | null {
  if (err instanceof RawValueError) return { table: err.table, column: err.column, errorType: ErrorType.BadSourceData, message: err.message };
  if (err instanceof CaptureError && err.kind === 'bad-data' && err.table) {
    return { table: err.table.key, column: err.table.column, errorType: ErrorType.BadSourceData, message: err.message };
  }
  return null;
}
