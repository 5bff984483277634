// Reading the processed zone back into the canonical row form of test/support/replay.ts, so a lake
// table can be compared with its source table value for value.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TableRecord } from '../../lib/control-plane/store';
import type { CanonicalRow } from './replay';

const WIB_OFFSET_MS = 7 * 3600_000;
const scaleOf = (lakeType: string) => Number(/^decimal\(\d+,(\d+)\)$/.exec(lakeType)?.[1] ?? 0);
const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** A value as Spark's to_json writes it, in canonical form (timestamps back in UTC). */
export function fromSparkJson(lakeType: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (lakeType.startsWith('decimal')) return Number(v).toFixed(scaleOf(lakeType));
  switch (lakeType) {
    case 'timestamp':
      // The processed zone holds WIB wall-clock times: the source's UTC instant plus seven hours.
      return new Date(Date.parse(text(v)) - WIB_OFFSET_MS).toISOString();
    case 'binary':
      return Buffer.from(text(v), 'base64').toString('hex');
    case 'boolean':
      return v ? 't' : 'f';
    default:
      return text(v);
  }
}

/** One row of `SELECT to_json(struct(*)) AS row FROM <lake table>`, canonical. */
export function canonicalLakeRow(t: TableRecord, json: unknown): CanonicalRow {
  const values = JSON.parse(text(json)) as Record<string, unknown>;
  const row: CanonicalRow = {};
  for (const c of t.columns) row[c.name] = fromSparkJson(c.lakeType, values[c.lakeName]);
  return row;
}

/** A canonical row back in the text form the raw-file writer takes from a source. */
export function asSourceValues(t: TableRecord, row: CanonicalRow): Record<string, string | null> {
  return Object.fromEntries(
    t.columns.map((c) => {
      const v = row[c.name] ?? null;
      return [c.name, v !== null && c.lakeType === 'timestamp' ? v.replace('T', ' ').replace('Z', '') : v];
    }),
  );
}

/**
 * The warm engine's JVM: the child of the supervisor recorded in $DANAU_HOME/run/spark-connect.pid
 * whose command line runs SparkConnectServer (scripts/stack/spark.sh), or null when it is not running.
 */
export function warmEngineJvmPid(home: string): number | null {
  let supervisor: number;
  try {
    supervisor = Number(readFileSync(path.join(home, 'run', 'spark-connect.pid'), 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return null;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === supervisor && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('SparkConnectServer')) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return null;
}
