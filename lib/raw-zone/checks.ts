// The ingestion checks that guard every table's pipeline, as pure functions of what the raw zone
// holds: freshness, continuity of the change sequence, and schema drift.
import type { SchemaElement } from 'hyparquet' with { 'resolution-mode': 'import' };
import type { LakeColumn } from '../tables/definition';
import { CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN, OP_COLUMN } from './dms-file';

export interface CheckOutcome {
  ok: boolean;
  message: string;
}

export function checkFreshness(table: string, newestCommit: Date | null, now: Date, slaMinutes: number): CheckOutcome & { lagSeconds: number | null } {
  if (!newestCommit) return { ok: false, lagSeconds: null, message: `table ${table}: no raw file yet` };
  const lagSeconds = Math.max(0, Math.round((now.getTime() - newestCommit.getTime()) / 1000));
  const ok = lagSeconds <= slaMinutes * 60;
  return {
    ok,
    lagSeconds,
    message: ok
      ? `table ${table}: newest change is ${lagSeconds}s old (SLA ${slaMinutes} min)`
      : `table ${table}: newest change is ${Math.round(lagSeconds / 60)} min old, past its ${slaMinutes} min SLA: capture may be stopped or the source idle`,
  };
}

export interface RawFileSummary {
  key: string;
  firstChangeSeq: string;
  lastChangeSeq: string;
  /** What the writer recorded as the last change sequence of the file before it. */
  previousChangeSeq: string;
}

/**
 * Consecutive files must chain: each file's recorded predecessor is the previous file's last change
 * (a mismatch is a lost or extra file), and no file starts at or before the previous one's end.
 */
export function checkContinuity(table: string, files: RawFileSummary[], checkpointSeq = ''): CheckOutcome & { problems: string[] } {
  const problems: string[] = [];
  let prior: RawFileSummary | null = null;
  for (const f of files) {
    if (f.firstChangeSeq > f.lastChangeSeq) problems.push(`${f.key}: its first change ${f.firstChangeSeq} is after its last ${f.lastChangeSeq}`);
    const expected = prior ? prior.lastChangeSeq : checkpointSeq;
    if (prior && f.firstChangeSeq <= prior.lastChangeSeq) {
      problems.push(`overlap: ${f.key} starts at ${f.firstChangeSeq}, not after ${prior.key} ends at ${prior.lastChangeSeq}`);
    } else if (f.previousChangeSeq !== expected && (prior !== null || checkpointSeq !== '')) {
      problems.push(`gap: ${f.key} follows change ${f.previousChangeSeq || '(start)'} but the file before it ends at ${expected || '(start)'}`);
    }
    prior = f;
  }
  return {
    ok: problems.length === 0,
    problems,
    message: problems.length ? `table ${table}: ${problems.length} continuity problem(s): ${problems.join('; ')}` : `table ${table}: ${files.length} file(s) chain without gap or overlap`,
  };
}

/** The lake type a raw file's Parquet column carries (the inverse of the writer's encoding). */
export function lakeTypeOf(el: SchemaElement): string {
  if (el.converted_type === 'DECIMAL' || el.logical_type?.type === 'DECIMAL') return `decimal(${el.precision},${el.scale})`;
  if (el.converted_type === 'DATE') return 'date';
  if (el.converted_type === 'TIMESTAMP_MICROS' || el.converted_type === 'TIMESTAMP_MILLIS' || el.logical_type?.type === 'TIMESTAMP') return 'timestamp';
  if (el.converted_type === 'UTF8' || el.logical_type?.type === 'STRING') return 'string';
  switch (el.type) {
    case 'INT32':
      return 'int';
    case 'INT64':
      return 'bigint';
    case 'BOOLEAN':
      return 'boolean';
    case 'FLOAT':
      return 'float';
    case 'DOUBLE':
      return 'double';
    case 'BYTE_ARRAY':
      return 'binary';
    default:
      return `unknown(${el.type ?? 'group'})`;
  }
}

export interface SchemaDrift extends CheckOutcome {
  added: string[];
  dropped: string[];
  retyped: { column: string; from: string; to: string }[];
}

const HEADER_COLUMNS = new Set([OP_COLUMN, COMMIT_TS_COLUMN, CHANGE_SEQ_COLUMN]);

/** Compares a raw file's columns with the table's recorded columns. */
export function detectSchemaDrift(table: string, expected: LakeColumn[], fileSchema: SchemaElement[]): SchemaDrift {
  const found = new Map(fileSchema.slice(1).filter((e) => !HEADER_COLUMNS.has(e.name)).map((e) => [e.name, lakeTypeOf(e)]));
  const known = new Map(expected.map((c) => [c.name, c.lakeType]));
  const added = [...found.keys()].filter((n) => !known.has(n));
  const dropped = [...known.keys()].filter((n) => !found.has(n));
  const retyped = [...known].filter(([n, t]) => found.has(n) && found.get(n) !== t).map(([n, t]) => ({ column: n, from: t, to: found.get(n)! }));
  const parts = [
    ...added.map((n) => `column ${n} added (${found.get(n)})`),
    ...dropped.map((n) => `column ${n} dropped`),
    ...retyped.map((r) => `column ${r.column} changed from ${r.from} to ${r.to}`),
  ];
  return {
    ok: parts.length === 0,
    added,
    dropped,
    retyped,
    message: parts.length ? `table ${table}: schema changed at the source: ${parts.join(', ')}; the table is paused until it is re-onboarded` : `table ${table}: schema unchanged`,
  };
}
