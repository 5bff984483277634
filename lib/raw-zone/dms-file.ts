// Files in AWS DMS's S3-target Parquet format, written by the local capture so that the rest of the
// platform cannot tell them from what DMS writes in production:
//   - `Op` first: I, U or D (for U the row after the change, for D the row before it);
//   - the timestamp column DMS adds with TimestampColumnName: the source commit time as a string
//     `yyyy-MM-dd HH:mm:ss.SSSSSS` (UTC);
//   - the change sequence DMS adds with an `$AR_H_CHANGE_SEQ` transformation: a fixed-width string
//     that is strictly increasing within a table, so comparing it as text orders changes;
//   - then the table's columns, typed as DMS types them (decimals exact, timestamps in micros UTC).
// Each file also records, in its key-value metadata, the last change sequence of the file before it,
// so a gap between two files (a lost file) is detectable from the files alone.
import type { SchemaElement } from 'hyparquet' with { 'resolution-mode': 'import' };
import type { LakeColumn } from '../tables/definition';

export const OP_COLUMN = 'Op';
export const COMMIT_TS_COLUMN = 'dms_commit_ts';
export const CHANGE_SEQ_COLUMN = 'dms_change_seq';
export const PREVIOUS_SEQ_KEY = 'danau.previous_change_seq';
export const TABLE_KEY = 'danau.table';

export type ChangeOp = 'I' | 'U' | 'D';

/** Source values as the capture reads them: text (exact), bytes, or NULL. */
export type SourceValue = string | Uint8Array | null;

export interface RawChange {
  op: ChangeOp;
  /** `yyyy-MM-dd HH:mm:ss[.ffffff]`, UTC. */
  commitTimestamp: string;
  changeSeq: string;
  values: Record<string, SourceValue>;
}

export interface DmsFile {
  table: string;
  columns: LakeColumn[];
  changes: RawChange[];
  /** The last change sequence of the previous file of this table ('' for the first file). */
  previousChangeSeq: string;
}

/**
 * A value that does not fit its column, or a column type with no encoding. The message names the
 * table, the column and the change (its sequence), never the value: values are patient data.
 */
export class RawValueError extends Error {
  constructor(readonly table: string, readonly column: string, readonly changeSeq: string | null, readonly reason: string) {
    super(`table ${table}: column ${column}: ${changeSeq ? `the value of change ${changeSeq} cannot be written` : 'cannot be written'}: ${reason}`);
    this.name = 'RawValueError';
  }
}

const DECIMAL = /^decimal\((\d+),(\d+)\)$/;

interface Encoder {
  element: SchemaElement;
  encode(value: string | Uint8Array): unknown;
}

const text = (v: string | Uint8Array): string => (typeof v === 'string' ? v : Buffer.from(v).toString('utf8'));

/** The smallest two's-complement width that holds `precision` decimal digits. */
function decimalBytes(precision: number): number {
  let bytes = 1;
  while (2n ** BigInt(8 * bytes - 1) <= 10n ** BigInt(precision)) bytes++;
  return bytes;
}

function toUnscaled(s: string, scale: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s.trim());
  if (!m || (m[2] === '' && !m[3])) throw new Error('not a decimal number');
  const frac = m[3] ?? '';
  if (frac.replace(/0+$/, '').length > scale) throw new Error(`more than ${scale} decimal places`);
  const unscaled = BigInt((m[2] || '0') + frac.padEnd(scale, '0').slice(0, scale));
  return m[1] === '-' ? -unscaled : unscaled;
}

const TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:\s*(Z|[+-]\d\d(?::?\d\d)?))?$/;

// Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear does not.
function utcMillis(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) throw new Error('field out of range');
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return date.getTime();
}

/** MySQL's zero dates (0000-00-00) are not dates; DMS writes them as NULL. */
export function isZeroDate(s: string): boolean {
  return /^0000-00-00/.test(s.trim());
}

/** Microseconds since the epoch; a value without an offset is taken as UTC. */
export function timestampMicros(s: string): bigint {
  const m = TIMESTAMP.exec(s.trim());
  if (!m) throw new Error('not a timestamp');
  const [, y, mo, d, h, mi, se, frac = '', zone] = m;
  let ms = utcMillis(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(se));
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000;
  }
  return BigInt(ms) * 1000n + BigInt(frac.padEnd(6, '0').slice(0, 6));
}

function dateDays(s: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(s.trim());
  if (!m) throw new Error('not a date (yyyy-MM-dd)');
  return utcMillis(Number(m[1]), Number(m[2]), Number(m[3])) / 86_400_000;
}

const INT32 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

function integer(s: string, range: { min: bigint; max: bigint }): bigint {
  if (!/^[+-]?\d+$/.test(s.trim())) throw new Error('not an integer');
  const v = BigInt(s.trim());
  if (v < range.min || v > range.max) throw new Error('out of range');
  return v;
}

function encoderFor(c: LakeColumn): Encoder {
  const base = { name: c.name, repetition_type: 'OPTIONAL' as const };
  const dec = DECIMAL.exec(c.lakeType);
  if (dec) {
    const precision = Number(dec[1]);
    const scale = Number(dec[2]);
    const logical = { type: 'DECIMAL' as const, precision, scale };
    if (precision <= 18) {
      return {
        element: { ...base, type: 'INT64', converted_type: 'DECIMAL', precision, scale, logical_type: logical },
        encode: (v) => toUnscaled(text(v), scale),
      };
    }
    const width = decimalBytes(precision);
    return {
      element: { ...base, type: 'FIXED_LEN_BYTE_ARRAY', type_length: width, converted_type: 'DECIMAL', precision, scale, logical_type: logical },
      // hyparquet-writer lays the unscaled value out as big-endian two's complement itself.
      encode: (v) => toUnscaled(text(v), scale),
    };
  }
  switch (c.lakeType) {
    case 'int':
      return { element: { ...base, type: 'INT32' }, encode: (v) => Number(integer(text(v), INT32)) };
    case 'bigint':
      return { element: { ...base, type: 'INT64' }, encode: (v) => integer(text(v), INT64) };
    case 'boolean':
      return {
        element: { ...base, type: 'BOOLEAN' },
        encode: (v) => {
          const t = text(v).trim().toLowerCase();
          if (['1', 't', 'true', 'y'].includes(t)) return true;
          if (['0', 'f', 'false', 'n'].includes(t)) return false;
          throw new Error('not a boolean');
        },
      };
    case 'float':
    case 'double':
      return {
        element: { ...base, type: c.lakeType === 'float' ? 'FLOAT' : 'DOUBLE' },
        encode: (v) => {
          const n = Number(text(v));
          if (Number.isNaN(n) && !/^nan$/i.test(text(v).trim())) throw new Error('not a number');
          return n;
        },
      };
    case 'date':
      return { element: { ...base, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }, encode: (v) => dateDays(text(v)) };
    case 'timestamp':
      return {
        element: { ...base, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
        encode: (v) => timestampMicros(text(v)),
      };
    case 'binary':
      return { element: { ...base, type: 'BYTE_ARRAY' }, encode: (v) => (typeof v === 'string' ? new TextEncoder().encode(v) : v) };
    case 'string':
      return { element: { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, encode: text };
    default:
      throw new Error(`column ${c.name}: lake type ${c.lakeType} has no Parquet encoding`);
  }
}

const stringElement = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  logical_type: { type: 'STRING' },
  repetition_type: 'REQUIRED',
});

/** The Parquet schema of a table's raw files. */
export function dmsSchema(columns: LakeColumn[]): SchemaElement[] {
  return [
    { name: 'schema', num_children: columns.length + 3 },
    stringElement(OP_COLUMN),
    stringElement(COMMIT_TS_COLUMN),
    stringElement(CHANGE_SEQ_COLUMN),
    ...columns.map((c) => encoderFor(c).element),
  ];
}

// Spark refuses dates before 1582 written by a writer it cannot identify (its calendar rebase
// check); declaring a Spark 3 writer says these are proleptic Gregorian values, which they are.
const SPARK_CALENDAR_HINT = { key: 'org.apache.spark.version', value: '3.5.0' };

/** Encodes one raw file. Throws RawValueError naming the column of a value that does not fit. */
export async function encodeDmsParquet(file: DmsFile): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const encoders = file.columns.map((c) => {
    try {
      return encoderFor(c);
    } catch (err) {
      throw new RawValueError(file.table, c.name, null, (err as Error).message.replace(/^column [^:]*: /, ''));
    }
  });
  const sorted = file.changes;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.changeSeq <= sorted[i - 1]!.changeSeq) {
      throw new Error(`table ${file.table}: change sequence must increase within a file (${sorted[i - 1]!.changeSeq} then ${sorted[i]!.changeSeq})`);
    }
  }
  const columnData = [
    { name: OP_COLUMN, data: sorted.map((c) => c.op) },
    { name: COMMIT_TS_COLUMN, data: sorted.map((c) => formatCommitTimestamp(c.commitTimestamp)) },
    { name: CHANGE_SEQ_COLUMN, data: sorted.map((c) => c.changeSeq) },
    ...file.columns.map((col, i) => ({
      name: col.name,
      data: sorted.map((change) => {
        const v = change.values[col.name];
        if (v === null || v === undefined) return null;
        if (typeof v === 'string' && (col.lakeType === 'date' || col.lakeType === 'timestamp') && isZeroDate(v)) return null;
        try {
          return encoders[i]!.encode(v);
        } catch (err) {
          throw new RawValueError(file.table, col.name, change.changeSeq, `${(err as Error).message} (lake type ${col.lakeType})`);
        }
      }),
    })),
  ];
  const buffer = parquetWriteBuffer({
    schema: dmsSchema(file.columns),
    columnData,
    codec: 'SNAPPY',
    kvMetadata: [
      { key: PREVIOUS_SEQ_KEY, value: file.previousChangeSeq },
      { key: TABLE_KEY, value: file.table },
      SPARK_CALENDAR_HINT,
    ],
    createdBy: 'danau local capture (AWS DMS S3 target format)',
  });
  return new Uint8Array(buffer);
}

/** `yyyy-MM-dd HH:mm:ss.SSSSSS`, as DMS writes its timestamp column. */
export function formatCommitTimestamp(s: string): string {
  const micros = timestampMicros(s);
  const fraction = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const iso = new Date(Number((micros - fraction) / 1000n)).toISOString(); // yyyy-MM-ddTHH:mm:ss.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${fraction.toString().padStart(6, '0')}`;
}
