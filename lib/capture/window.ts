// Turning captured transactions into raw files: one file per table per window, each change stamped
// with a change sequence that is strictly increasing within the table (the transaction's position,
// then the change's place in it). Pure, so the same window always gives the same keys and bytes.
import type { DmsFile, RawChange, SourceValue } from '../raw-zone/dms-file';
import { cdcObjectKey } from '../raw-zone/keys';
import type { LakeColumn } from '../tables/definition';

export interface CapturedChange {
  /** source.schema.table */
  table: string;
  op: RawChange['op'];
  values: Record<string, SourceValue>;
  /** The columns the source sent for this change (the same array for a whole relation). */
  columns: LakeColumn[];
}

export interface CapturedTransaction {
  /** Commit time, UTC, `yyyy-MM-dd HH:mm:ss.ffffff`. */
  commitTimestamp: string;
  /** Fixed-width, increasing with commit order (e.g. the commit LSN, zero-padded hex). */
  position: string;
  changes: CapturedChange[];
}

export interface TableTarget {
  source: string;
  schema: string;
  table: string;
  /** The last change sequence already in the raw zone ('' before the first file). */
  lastChangeSeq: string;
  /** Changes at or before this sequence are already in the raw zone (a redone window, or the full load). */
  skipThrough: string;
  /** The time in the table's last file key ('' before the first). */
  lastKeyTimestamp: string;
}

export interface WindowFile {
  table: string;
  key: string;
  /** The time the key is named by: never before the table's previous key's time. */
  keyTimestamp: string;
  file: DmsFile;
  lastChangeSeq: string;
}

/** `position` followed by the change's index in its transaction, as 8 hex digits. */
export function changeSeq(position: string, index: number): string {
  return `${position}${index.toString(16).toUpperCase().padStart(8, '0')}`;
}

export function buildWindowFiles(transactions: CapturedTransaction[], targets: ReadonlyMap<string, TableTarget>): WindowFile[] {
  const files: WindowFile[] = [];
  const open = new Map<string, WindowFile>();
  for (const txn of transactions) {
    txn.changes.forEach((change, index) => {
      const target = targets.get(change.table);
      if (!target) return; // a table the source publishes but Danau does not capture (any more)
      const seq = changeSeq(txn.position, index);
      if (seq <= target.skipThrough) return;
      let current = open.get(change.table);
      // A column change at the source mid-window starts a new file, so every file has one schema.
      if (current && current.file.columns !== change.columns) current = undefined;
      if (!current) {
        const prior = open.get(change.table);
        const previous = prior?.lastChangeSeq ?? target.lastChangeSeq;
        // Keys must sort in change order, and commit times need not: MariaDB stamps a transaction
        // with its statement's start, in whole seconds. So a key's time never goes back.
        const floor = prior?.keyTimestamp ?? target.lastKeyTimestamp;
        const keyTimestamp = txn.commitTimestamp > floor ? txn.commitTimestamp : floor;
        current = {
          table: change.table,
          key: cdcObjectKey(target, keyTimestamp, seq),
          keyTimestamp,
          file: { table: change.table, columns: change.columns, changes: [], previousChangeSeq: previous },
          lastChangeSeq: previous,
        };
        open.set(change.table, current);
        files.push(current);
      }
      current.file.changes.push({ op: change.op, commitTimestamp: txn.commitTimestamp, changeSeq: seq, values: change.values });
      current.lastChangeSeq = seq;
    });
  }
  return files;
}
