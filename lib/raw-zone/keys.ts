// Where raw files live, and the one order in which they are consumed. Files are listed and
// checkpointed by name, never by modification time (Hudi's S3 sources skip late files that way:
// apache/hudi#2850), so the name must sort in change order:
//   <schema>/<table>/LOAD00000001.parquet                                   full load (hex counter, as DMS)
//   <schema>/<table>/YYYY/MM/DD/YYYYMMDD-HHmmssffffff-<first change seq>.parquet   CDC, by commit date (UTC)
// A CDC key is derived from the first change it holds, so writing the same window again gives the
// same key: nothing is duplicated downstream.
import { formatCommitTimestamp } from './dms-file';

export type RawFileKind = 'load' | 'cdc';

export interface RawKey {
  key: string;
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

export function tablePrefix(schema: string, table: string): string {
  return `${schema}/${table}/`;
}

export function loadObjectKey(schema: string, table: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new Error(`full-load file number out of range: ${n}`);
  return `${tablePrefix(schema, table)}LOAD${n.toString(16).toUpperCase().padStart(8, '0')}.parquet`;
}

export function cdcObjectKey(schema: string, table: string, firstCommitTimestamp: string, firstChangeSeq: string): string {
  if (!SEQ.test(firstChangeSeq)) throw new Error(`change sequence ${JSON.stringify(firstChangeSeq)} cannot be part of an object key`);
  const ts = formatCommitTimestamp(firstCommitTimestamp); // yyyy-MM-dd HH:mm:ss.ffffff
  const [y, mo, d] = ts.slice(0, 10).split('-') as [string, string, string];
  const clock = ts.slice(11).replace(/[:.]/g, '');
  return `${tablePrefix(schema, table)}${y}/${mo}/${d}/${y}${mo}${d}-${clock}-${firstChangeSeq}.parquet`;
}

const LOAD_KEY = /^([^/]+)\/([^/]+)\/LOAD([0-9A-F]{8})\.parquet$/;
// DMS itself names CDC files by time alone (20141029-1134010000.parquet); ours add the first
// change so a redone window keeps its key. Both are read.
const CDC_KEY = /^([^/]+)\/([^/]+)\/(\d{4})\/(\d\d)\/(\d\d)\/(\d{8})-(\d{6,12})(?:-([0-9A-Za-z_.:-]+))?\.parquet$/;

/** Parses a raw-zone key; throws naming the key when it is not one Danau or DMS writes. */
export function parseRawKey(key: string): RawKey {
  const load = LOAD_KEY.exec(key);
  if (load) return { key, schema: load[1]!, table: load[2]!, kind: 'load', loadNumber: parseInt(load[3]!, 16) };
  const cdc = CDC_KEY.exec(key);
  if (cdc && cdc[6] === `${cdc[3]}${cdc[4]}${cdc[5]}`) {
    return { key, schema: cdc[1]!, table: cdc[2]!, kind: 'cdc', date: `${cdc[3]}-${cdc[4]}-${cdc[5]}`, ...(cdc[8] ? { firstChangeSeq: cdc[8] } : {}) };
  }
  throw new Error(`not a raw-zone file key: ${key} (expected <schema>/<table>/LOADxxxxxxxx.parquet or <schema>/<table>/YYYY/MM/DD/YYYYMMDD-HHmmssffffff-<seq>.parquet)`);
}

/** Consumption order: the full load first, then CDC files by name (which is commit order). */
export function compareRawKeys(a: RawKey, b: RawKey): number {
  if (a.kind !== b.kind) return a.kind === 'load' ? -1 : 1;
  if (a.kind === 'load') return (a.loadNumber ?? 0) - (b.loadNumber ?? 0);
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
