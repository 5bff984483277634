// Where raw files live, and the one order in which they are consumed. Files are listed and
// checkpointed by name, never by modification time (Hudi's S3 sources skip late files that way:
// apache/hudi#2850), so the name must sort in change order:
//   <source>/<schema>/<table>/LOAD00000001.parquet                                   full load (hex counter, as DMS)
//   <source>/<schema>/<table>/YYYY/MM/DD/YYYYMMDD-HHmmssffffff-<first change seq>.parquet   CDC, by commit date (UTC)
// The source comes first because many sources share `public.<name>`: without it, a second source's
// full load overwrote the first's files. On AWS it is the DMS task's BucketFolder (one per source).
// A CDC key is derived from the first change it holds, so writing the same window again gives the
// same key: nothing is duplicated downstream.
import { formatCommitTimestamp } from './dms-file';

export type RawFileKind = 'load' | 'cdc';

/** A table as the raw zone names it: the same three parts as its `source.schema.table` key. */
export interface RawTableRef {
  source: string;
  schema: string;
  table: string;
}

export interface RawKey {
  key: string;
  /** Absent for a key of the layout before sources had a prefix of their own (see legacyTablePrefix). */
  source?: string;
  schema: string;
  table: string;
  kind: RawFileKind;
  /** Full-load file number (1-based) */
  loadNumber?: number;
  /** CDC commit date of the first change, YYYY-MM-DD */
  date?: string;
  firstChangeSeq?: string;
}

const SEQ = /^[0-9A-Za-z_.:-]+$/;

/**
 * Why a name cannot be one segment of a raw-zone key, or null when it can. A `/` would let two
 * tables share a prefix (schema `a`, table `b/c` and schema `a/b`, table `c`); `.` and `..` are
 * path segments to many tools that read S3 as a file system.
 */
export function rawSegmentProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.includes('/')) return 'contains "/", which would let two tables share a raw-zone prefix';
  if (name === '.' || name === '..') return `is ${JSON.stringify(name)}, a path segment`;
  return null;
}

export function tablePrefix(ref: RawTableRef): string {
  for (const [what, name] of [['source', ref.source], ['schema', ref.schema], ['table', ref.table]] as const) {
    const problem = rawSegmentProblem(name);
    if (problem) throw new Error(`${what} name ${JSON.stringify(name)} ${problem}`);
  }
  return `${ref.source}/${ref.schema}/${ref.table}/`;
}

/** Where a table's files lived before the source had a prefix: only to find and move such files. */
export function legacyTablePrefix(ref: Pick<RawTableRef, 'schema' | 'table'>): string {
  return `${ref.schema}/${ref.table}/`;
}

export function loadObjectKey(ref: RawTableRef, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new Error(`full-load file number out of range: ${n}`);
  return `${tablePrefix(ref)}LOAD${n.toString(16).toUpperCase().padStart(8, '0')}.parquet`;
}

export function cdcObjectKey(ref: RawTableRef, firstCommitTimestamp: string, firstChangeSeq: string): string {
  if (!SEQ.test(firstChangeSeq)) throw new Error(`change sequence ${JSON.stringify(firstChangeSeq)} cannot be part of an object key`);
  const ts = formatCommitTimestamp(firstCommitTimestamp); // yyyy-MM-dd HH:mm:ss.ffffff
  const [y, mo, d] = ts.slice(0, 10).split('-') as [string, string, string];
  const clock = ts.slice(11).replace(/[:.]/g, '');
  return `${tablePrefix(ref)}${y}/${mo}/${d}/${y}${mo}${d}-${clock}-${firstChangeSeq}.parquet`;
}

// The table's prefix is two segments (legacy) or three (now); the segment counts of the two layouts
// differ, so one key is never both.
const LOAD_FILE = /^LOAD([0-9A-F]{8})\.parquet$/;
// DMS itself names CDC files by time alone (20141029-1134010000.parquet); ours add the first
// change so a redone window keeps its key. Both are read.
const CDC_FILE = /^(\d{8})-(\d{6,12})(?:-([0-9A-Za-z_.:-]+))?\.parquet$/;
const DATE_PART = [/^\d{4}$/, /^\d\d$/, /^\d\d$/];

function tableOf(parts: string[]): Pick<RawKey, 'source' | 'schema' | 'table'> | null {
  if (parts.length === 3) return { source: parts[0]!, schema: parts[1]!, table: parts[2]! };
  if (parts.length === 2) return { schema: parts[0]!, table: parts[1]! };
  return null;
}

/** Parses a raw-zone key; throws naming the key when it is not one Danau or DMS writes. */
export function parseRawKey(key: string): RawKey {
  const parts = key.split('/');
  const file = parts[parts.length - 1] ?? '';
  const load = LOAD_FILE.exec(file);
  if (load) {
    const t = tableOf(parts.slice(0, -1));
    if (t) return { key, ...t, kind: 'load', loadNumber: parseInt(load[1]!, 16) };
  }
  const cdc = CDC_FILE.exec(file);
  if (cdc && parts.length >= 6) {
    const date = parts.slice(-4, -1);
    const t = tableOf(parts.slice(0, -4));
    if (t && date.every((p, i) => DATE_PART[i]!.test(p)) && cdc[1] === date.join('')) {
      return { key, ...t, kind: 'cdc', date: `${date[0]}-${date[1]}-${date[2]}`, ...(cdc[3] ? { firstChangeSeq: cdc[3] } : {}) };
    }
  }
  throw new Error(`not a raw-zone file key: ${key} (expected <source>/<schema>/<table>/LOADxxxxxxxx.parquet or <source>/<schema>/<table>/YYYY/MM/DD/YYYYMMDD-HHmmssffffff-<seq>.parquet)`);
}

/** The part of a key below its table's prefix: what orders a table's files, whatever its layout. */
function withinTable(k: RawKey): string {
  return k.key.split('/').slice(k.source === undefined ? 2 : 3).join('/');
}

/** Consumption order: the full load first, then CDC files by name (which is commit order). */
export function compareRawKeys(a: RawKey, b: RawKey): number {
  if (a.kind !== b.kind) return a.kind === 'load' ? -1 : 1;
  if (a.kind === 'load') return (a.loadNumber ?? 0) - (b.loadNumber ?? 0);
  const x = withinTable(a);
  const y = withinTable(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The key a file of the legacy layout moves to: the same name under its source's prefix. */
export function movedLegacyKey(key: string, source: string): string {
  const parsed = parseRawKey(key);
  if (parsed.source !== undefined) throw new Error(`raw key ${key} already has a source prefix`);
  return `${source}/${key}`;
}

/** The raw-zone name of an onboarded table (a control-plane table record). */
export function rawTableOf(t: { sourceName: string; schemaName: string; tableName: string }): RawTableRef {
  return { source: t.sourceName, schema: t.schemaName, table: t.tableName };
}
