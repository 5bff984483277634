// Raw-zone partitions as the archive sees them: a table's CDC files of one day (YYYY-MM-DD) or one
// month (YYYY-MM), by the commit date in their key (UTC, as DMS writes it). Full-load files
// (<source>/<schema>/<table>/LOAD…) belong to no partition and are never archived. Pure functions.
import { parseRawKey, tablePrefix, type RawTableRef } from '../raw-zone/keys';

export type ArchiveLevel = 'day' | 'month';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

/** Throws a message naming what is wrong when `partition` is not a day or month of `level`. */
export function checkPartition(level: ArchiveLevel, partition: string): void {
  const m = (level === 'day' ? DAY : MONTH).exec(partition);
  const valid = m && Number(m[2]) >= 1 && Number(m[2]) <= 12 && (level === 'month' || new Date(`${partition}T00:00:00Z`).toISOString().slice(0, 10) === partition);
  if (!valid) throw new Error(`partition ${JSON.stringify(partition)} is not a ${level === 'day' ? 'day (YYYY-MM-DD)' : 'month (YYYY-MM)'}`);
}

export function checkDate(what: string, date: string): void {
  if (!DAY.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
    throw new Error(`${what} ${JSON.stringify(date)} is not a date (YYYY-MM-DD)`);
  }
}

/** The day or month a raw key belongs to, or null for full-load files and keys that are not raw files. */
export function partitionOfKey(key: string, level: ArchiveLevel): { partition: string; date: string } | null {
  let parsed;
  try {
    parsed = parseRawKey(key);
  } catch {
    return null;
  }
  if (parsed.kind !== 'cdc' || !parsed.date) return null;
  return { partition: level === 'day' ? parsed.date : parsed.date.slice(0, 7), date: parsed.date };
}

/** The S3 prefix holding a partition's files. */
export function partitionPrefix(ref: RawTableRef, level: ArchiveLevel, partition: string): string {
  checkPartition(level, partition);
  const [y, m, d] = partition.split('-');
  return level === 'day' ? `${tablePrefix(ref)}${y}/${m}/${d}/` : `${tablePrefix(ref)}${y}/${m}/`;
}

/** The first instant after the partition (UTC). */
export function partitionEnd(level: ArchiveLevel, partition: string): Date {
  checkPartition(level, partition);
  const [y, m, d] = partition.split('-').map(Number) as [number, number, number?];
  return level === 'day' ? new Date(Date.UTC(y, m - 1, d! + 1)) : new Date(Date.UTC(y, m, 1));
}

/** The partition ended more than `afterDays` days before `asOf`. */
export function isOldEnough(level: ArchiveLevel, partition: string, asOf: Date, afterDays: number): boolean {
  return partitionEnd(level, partition).getTime() <= asOf.getTime() - afterDays * 86_400_000;
}

/** The partition holds at least one day of [startDate, endDate] (inclusive, YYYY-MM-DD). */
export function partitionOverlaps(level: ArchiveLevel, partition: string, startDate: string, endDate: string): boolean {
  const first = level === 'day' ? partition : `${partition}-01`;
  const last = new Date(partitionEnd(level, partition).getTime() - 86_400_000).toISOString().slice(0, 10);
  return first <= endDate && last >= startDate;
}

/**
 * The zip's key in the archive bucket: one per partition and generation, so a rerun overwrites its
 * own unverified zip instead of adding another. Generation 0 is the partition's first archive; a
 * later one holds files that arrived (or changed) after the partition was archived.
 */
export function zipKeyFor(ref: RawTableRef, level: ArchiveLevel, partition: string, generation: number): string {
  checkPartition(level, partition);
  return `raw-zone/${tablePrefix(ref)}${level}/${partition}${generation > 0 ? `.g${generation}` : ''}.zip`;
}
