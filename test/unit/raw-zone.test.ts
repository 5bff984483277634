import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkContinuity, checkFreshness, detectSchemaDrift } from '../../lib/raw-zone/checks';
import { dmsSchema, encodeDmsParquet, formatCommitTimestamp, RawValueError, timestampMicros, type RawChange } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey, compareRawKeys, loadObjectKey, movedLegacyKey, parseRawKey, rawSegmentProblem, tablePrefix } from '../../lib/raw-zone/keys';
import { readRawFileInfo } from '../../lib/raw-zone/read';
import type { LakeColumn } from '../../lib/tables/definition';

const col = (name: string, lakeType: string): LakeColumn => ({ name, lakeName: name, lakeType, sourceType: lakeType, nullable: true });
const columns = [
  col('id', 'bigint'),
  col('n', 'int'),
  col('fee', 'decimal(12,2)'),
  col('big', 'decimal(38,10)'),
  col('at', 'timestamp'),
  col('born', 'date'),
  col('name', 'string'),
  col('scan', 'binary'),
  col('active', 'boolean'),
];

const change = (seq: string, op: RawChange['op'], values: RawChange['values']): RawChange => ({
  op,
  commitTimestamp: '2026-11-23 04:05:06.123456',
  changeSeq: seq,
  values,
});

async function readAll(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  const { parquetReadObjects } = await import('hyparquet');
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return (await parquetReadObjects({ file, utf8: false })) as Record<string, unknown>[];
}

describe('DMS Parquet files', () => {
  const changes = [
    change('00000001', 'I', { id: '9223372036854775807', n: '-2147483648', fee: '1234.50', big: '-1234567890123456789012345678.0123456789', at: '2026-02-28 23:59:59.123456', born: '1000-01-01', name: 'Ni Luh Putu Ayu 陈美玲 😀', scan: new Uint8Array([0, 255, 16]), active: '1' }),
    change('00000002', 'U', { id: '2', n: null, fee: '-0.01', big: null, at: '2026-03-01 00:00:00+07:00', born: null, name: '', scan: null, active: 'f' }),
    change('00000003', 'D', { id: '3', n: null, fee: null, big: null, at: null, born: null, name: null, scan: null, active: null }),
  ];

  it('writes Op, commit timestamp and change sequence first, then typed columns that read back exactly', async () => {
    const bytes = await encodeDmsParquet({ table: 'clinic.clinic.t', columns, changes, previousChangeSeq: '' });
    const rows = await readAll(bytes);
    assert.deepEqual(Object.keys(rows[0]!).slice(0, 3), ['Op', 'dms_commit_ts', 'dms_change_seq']);
    assert.deepEqual(rows.map((r) => r.Op), ['I', 'U', 'D']);
    assert.equal(rows[0]!.dms_commit_ts, '2026-11-23 04:05:06.123456');
    assert.equal(rows[0]!.id, 9223372036854775807n);
    assert.equal(rows[0]!.n, -2147483648);
    assert.equal(rows[0]!.fee, 1234.5);
    assert.equal(rows[1]!.fee, -0.01);
    assert.equal((rows[0]!.at as Date).toISOString(), '2026-02-28T23:59:59.123Z');
    assert.equal((rows[1]!.at as Date).toISOString(), '2026-02-28T17:00:00.000Z', 'an offset is converted to UTC');
    assert.equal((rows[0]!.born as Date).toISOString().slice(0, 10), '1000-01-01');
    assert.equal(rows[0]!.name, 'Ni Luh Putu Ayu 陈美玲 😀');
    assert.deepEqual([...(rows[0]!.scan as Uint8Array)], [0, 255, 16]);
    assert.equal(rows[0]!.active, true);
    assert.equal(rows[1]!.active, false);
    assert.equal(rows[2]!.name, null);
  });

  it('declares exact decimals and UTC micro timestamps in the schema', () => {
    const schema = dmsSchema(columns);
    const big = schema.find((e) => e.name === 'big')!;
    assert.equal(big.type, 'FIXED_LEN_BYTE_ARRAY');
    assert.equal(big.type_length, 16);
    assert.equal(schema.find((e) => e.name === 'fee')!.type, 'INT64');
    assert.deepEqual(schema.find((e) => e.name === 'at')!.logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' });
  });

  it('names the table, column and change of a value that does not fit, never the value', async () => {
    const bad = [change('1', 'I', { id: '1', fee: '12.345' })];
    await assert.rejects(encodeDmsParquet({ table: 'clinic.clinic.t', columns, changes: bad, previousChangeSeq: '' }), (err: unknown) => {
      assert.ok(err instanceof RawValueError);
      assert.equal(err.message, 'table clinic.clinic.t: column fee: the value of change 1 cannot be written: more than 2 decimal places (lake type decimal(12,2))');
      return true;
    });
    for (const [values, reason] of [
      [{ n: '2147483648' }, /column n: the value of change 1 cannot be written: out of range/],
      [{ at: 'yesterday' }, /column at: the value of change 1 cannot be written: not a timestamp/],
    ] as const) {
      await assert.rejects(encodeDmsParquet({ table: 't', columns, changes: [change('1', 'I', values)], previousChangeSeq: '' }), (err: unknown) => {
        assert.match((err as Error).message, reason);
        for (const v of Object.values(values)) assert.ok(!(err as Error).message.includes(v), `the message shows the value: ${(err as Error).message}`);
        return true;
      });
    }
    // A column whose type has no encoding names the column too.
    await assert.rejects(
      encodeDmsParquet({ table: 't', columns: [col('id', 'bigint'), col('odd', 'map<string,string>')], changes: [change('1', 'I', { id: '1' })], previousChangeSeq: '' }),
      (err: unknown) => err instanceof RawValueError && err.column === 'odd' && /lake type map<string,string> has no Parquet encoding/.test(err.message),
    );
  });

  it('writes MySQL zero dates as NULL, as DMS does', async () => {
    const bytes = await encodeDmsParquet({
      table: 't',
      columns: [col('born', 'date'), col('at', 'timestamp')],
      changes: [change('1', 'I', { born: '0000-00-00', at: '0000-00-00 00:00:00' })],
      previousChangeSeq: '',
    });
    const [row] = await readAll(bytes);
    assert.equal(row!.born, null);
    assert.equal(row!.at, null);
  });

  it('refuses changes out of sequence', async () => {
    await assert.rejects(
      encodeDmsParquet({ table: 't', columns, changes: [change('2', 'I', {}), change('1', 'I', {})], previousChangeSeq: '' }),
      /change sequence must increase within a file \(2 then 1\)/,
    );
  });

  it('summarises a file for the checks: first, last and previous change, newest commit', async () => {
    const bytes = await encodeDmsParquet({ table: 't', columns, changes, previousChangeSeq: '00000000' });
    const info = await readRawFileInfo('k', bytes);
    assert.equal(info.firstChangeSeq, '00000001');
    assert.equal(info.lastChangeSeq, '00000003');
    assert.equal(info.previousChangeSeq, '00000000');
    assert.equal(info.rows, 3);
    assert.equal(info.newestCommitTimestamp, '2026-11-23 04:05:06.123456');
    await assert.rejects(readRawFileInfo('broken.parquet', new Uint8Array([1, 2, 3])), /broken.parquet: not a readable Parquet file/);
  });

  it('formats commit timestamps as DMS does', () => {
    assert.equal(formatCommitTimestamp('2026-11-23T04:05:06Z'), '2026-11-23 04:05:06.000000');
    assert.equal(formatCommitTimestamp('2026-11-23 11:05:06.5+07'), '2026-11-23 04:05:06.500000');
    assert.equal(formatCommitTimestamp('1969-12-31 23:59:59.999999'), '1969-12-31 23:59:59.999999');
    assert.equal(timestampMicros('1970-01-01 00:00:01.000001'), 1_000_001n);
    // Years before 100 are not shifted into the 1900s.
    assert.equal(formatCommitTimestamp('0001-01-01 00:00:00'), '0001-01-01 00:00:00.000000');
    assert.throws(() => timestampMicros('2026-13-01 00:00:00'), /field out of range/);
  });
});

describe('raw-zone keys', () => {
  const patients = { source: 'clinic', schema: 'clinic', table: 'patients' };

  it('derives CDC keys from the first change, under the source and DMS date folders', () => {
    const key = cdcObjectKey(patients, '2026-11-23 04:05:06.123456', '0000000000000001a2b3');
    assert.equal(key, 'clinic/clinic/patients/2026/11/23/20261123-040506123456-0000000000000001a2b3.parquet');
    assert.equal(cdcObjectKey(patients, '2026-11-23 04:05:06.123456', '0000000000000001a2b3'), key);
    assert.deepEqual(parseRawKey(key), { key, source: 'clinic', schema: 'clinic', table: 'patients', kind: 'cdc', date: '2026-11-23', firstChangeSeq: '0000000000000001a2b3' });
  });

  it('gives two sources with the same schema.table prefixes that share nothing', () => {
    const labs = { source: 'labs', schema: 'public', table: 'lab_orders' };
    const pharmacy = { source: 'pharmacy', schema: 'public', table: 'lab_orders' };
    assert.equal(loadObjectKey(labs, 1), 'labs/public/lab_orders/LOAD00000001.parquet');
    assert.notEqual(loadObjectKey(labs, 1), loadObjectKey(pharmacy, 1));
    assert.ok(!tablePrefix(labs).startsWith(tablePrefix(pharmacy)) && !tablePrefix(pharmacy).startsWith(tablePrefix(labs)));
    // A table whose name begins with another's does not share its prefix either.
    assert.ok(!loadObjectKey({ ...labs, table: 'lab_orders_2' }, 1).startsWith(tablePrefix(labs)));
  });

  it('refuses names that would let two tables share a prefix', () => {
    assert.throws(() => tablePrefix({ source: 'labs', schema: 'a', table: 'b/c' }), /table name "b\/c" contains "\/"/);
    assert.throws(() => loadObjectKey({ source: 'labs', schema: '..', table: 't' }, 1), /schema name "\.\." is "\.\.", a path segment/);
    assert.equal(rawSegmentProblem('Dispensed By'), null);
  });

  it('names full-load files with DMS hex counters and consumes them first', () => {
    assert.equal(loadObjectKey({ source: 'labs', schema: 'public', table: 'lab_orders' }, 10), 'labs/public/lab_orders/LOAD0000000A.parquet');
    const keys = [
      'labs/public/lab_orders/2026/11/23/20261123-000000000000-2.parquet',
      'labs/public/lab_orders/LOAD00000002.parquet',
      'labs/public/lab_orders/2026/11/22/20261122-235959999999-1.parquet',
      'labs/public/lab_orders/LOAD00000001.parquet',
    ].map(parseRawKey);
    assert.deepEqual(
      keys.sort(compareRawKeys).map((k) => k.key.split('/').pop()),
      ['LOAD00000001.parquet', 'LOAD00000002.parquet', '20261122-235959999999-1.parquet', '20261123-000000000000-2.parquet'],
    );
  });

  it('reads the names DMS itself gives CDC files', () => {
    const key = 'clinic/clinic/patients/2014/10/29/20141029-1134010000.parquet';
    assert.deepEqual(parseRawKey(key), { key, source: 'clinic', schema: 'clinic', table: 'patients', kind: 'cdc', date: '2014-10-29' });
  });

  it('tells a key of the layout before source prefixes from one of today, and orders them alike', () => {
    // The segment counts differ, even when the source and the schema share a name (clinic.clinic).
    const legacy = parseRawKey('clinic/patients/2026/11/23/20261123-000000000000-2.parquet');
    assert.equal(legacy.source, undefined);
    assert.equal(legacy.schema, 'clinic');
    const legacyLoad = parseRawKey('clinic/patients/LOAD00000001.parquet');
    assert.deepEqual([legacyLoad.source, legacyLoad.schema, legacyLoad.table], [undefined, 'clinic', 'patients']);
    assert.equal(parseRawKey('clinic/clinic/patients/LOAD00000001.parquet').source, 'clinic');
    // A checkpoint written before the move still orders today's keys.
    const now = parseRawKey('clinic/clinic/patients/2026/11/23/20261123-000000000001-3.parquet');
    assert.ok(compareRawKeys(now, legacy) > 0);
    assert.equal(movedLegacyKey(legacy.key, 'clinic'), 'clinic/clinic/patients/2026/11/23/20261123-000000000000-2.parquet');
    assert.throws(() => movedLegacyKey(now.key, 'clinic'), /already has a source prefix/);
  });

  it('refuses a key it does not recognise, naming it', () => {
    assert.throws(() => parseRawKey('labs/public/lab_orders/2026/11/23/notes.txt'), /not a raw-zone file key: labs\/public\/lab_orders\/2026\/11\/23\/notes.txt/);
    assert.throws(() => parseRawKey('labs/public/lab_orders/2026/11/23/20261124-000000000000-1.parquet'), /not a raw-zone file key/);
    assert.throws(() => parseRawKey('x/labs/public/lab_orders/LOAD00000001.parquet'), /not a raw-zone file key/);
    assert.throws(() => cdcObjectKey({ source: 'a', schema: 'b', table: 'c' }, '2026-11-23 00:00:00', 'bad/seq'), /cannot be part of an object key/);
  });
});

describe('ingestion checks', () => {
  const f = (key: string, first: string, last: string, previous: string) => ({ key, firstChangeSeq: first, lastChangeSeq: last, previousChangeSeq: previous });

  it('accepts files that chain', () => {
    assert.equal(checkContinuity('t', [f('a', '01', '05', ''), f('b', '06', '09', '05'), f('c', '10', '10', '09')]).ok, true);
  });

  it('finds a lost file and an overlap', () => {
    const gap = checkContinuity('t', [f('a', '01', '05', ''), f('c', '10', '12', '09')]);
    assert.equal(gap.ok, false);
    assert.deepEqual(gap.problems, ['gap: c follows change 09 but the file before it ends at 05']);
    const overlap = checkContinuity('t', [f('a', '01', '05', ''), f('b', '05', '07', '05')]);
    assert.deepEqual(overlap.problems, ['overlap: b starts at 05, not after a ends at 05']);
  });

  it('checks the first file against the checkpoint', () => {
    assert.equal(checkContinuity('t', [f('b', '06', '09', '05')], '05').ok, true);
    assert.equal(checkContinuity('t', [f('b', '08', '09', '07')], '05').ok, false);
  });

  it('says how late a table is against its SLA', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    assert.equal(checkFreshness('t', new Date('2026-11-23T11:50:00Z'), now, 15).ok, true);
    const late = checkFreshness('t', new Date('2026-11-23T11:00:00Z'), now, 15);
    assert.equal(late.ok, false);
    assert.equal(late.lagSeconds, 3600);
    assert.match(late.message, /60 min old, past its 15 min SLA/);
    assert.equal(checkFreshness('t', null, now, 15).ok, false);
  });

  it('detects a column added, dropped or retyped, from a file schema', () => {
    const fileSchema = dmsSchema([col('id', 'bigint'), col('fee', 'decimal(14,2)'), col('note', 'string')]);
    const drift = detectSchemaDrift('clinic.clinic.t', [col('id', 'bigint'), col('fee', 'decimal(12,2)'), col('city', 'string')], fileSchema);
    assert.deepEqual(drift.added, ['note']);
    assert.deepEqual(drift.dropped, ['city']);
    assert.deepEqual(drift.retyped, [{ column: 'fee', from: 'decimal(12,2)', to: 'decimal(14,2)' }]);
    assert.match(drift.message, /table clinic\.clinic\.t: schema changed at the source: column note added \(string\), column city dropped, column fee changed from decimal\(12,2\) to decimal\(14,2\)/);
    assert.equal(detectSchemaDrift('t', columns, dmsSchema(columns)).ok, true);
  });
});
