import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildWindowFiles, changeSeq, type CapturedTransaction, type TableTarget } from '../../lib/capture/window';
import { parseRawKey } from '../../lib/raw-zone/keys';
import type { LakeColumn } from '../../lib/tables/definition';

const columns: LakeColumn[] = [{ name: 'id', lakeName: 'id', lakeType: 'bigint', sourceType: 'bigint', nullable: false }];
const txn = (commitTimestamp: string, position: string, ids: string[]): CapturedTransaction => ({
  commitTimestamp,
  position,
  changes: ids.map((id) => ({ table: 's.c.t', op: 'I' as const, columns, values: { id } })),
});
const target = (over: Partial<TableTarget> = {}): Map<string, TableTarget> =>
  new Map([['s.c.t', { source: 's', schema: 'c', table: 't', lastChangeSeq: '', skipThrough: '', lastKeyTimestamp: '', ...over }]]);

describe('buildWindowFiles', () => {
  it('numbers changes by transaction position and place, one file per table, chained to the last one', () => {
    const files = buildWindowFiles([txn('2026-11-23 01:00:00.000000', 'A1', ['1', '2']), txn('2026-11-23 01:00:01.000000', 'A2', ['3'])], target({ lastChangeSeq: 'A000000009' }));
    assert.equal(files.length, 1);
    assert.deepEqual(files[0]!.file.changes.map((c) => c.changeSeq), [changeSeq('A1', 0), changeSeq('A1', 1), changeSeq('A2', 0)]);
    assert.equal(files[0]!.file.previousChangeSeq, 'A000000009');
    assert.equal(files[0]!.lastChangeSeq, changeSeq('A2', 0));
  });

  it('skips what is already in the raw zone', () => {
    const files = buildWindowFiles([txn('2026-11-23 01:00:00.000000', 'A1', ['1', '2'])], target({ skipThrough: changeSeq('A1', 0) }));
    assert.deepEqual(files[0]!.file.changes.map((c) => c.values.id), ['2']);
  });

  it('never names a key before the previous one, even when the commit time goes back', () => {
    const files = buildWindowFiles([txn('2026-11-23 00:59:59.000000', 'B1', ['1'])], target({ lastKeyTimestamp: '2026-11-23 01:00:00.000000', lastChangeSeq: 'A100000000' }));
    assert.equal(files[0]!.keyTimestamp, '2026-11-23 01:00:00.000000');
    assert.equal(parseRawKey(files[0]!.key).date, '2026-11-23');
    assert.match(files[0]!.key, /\/20261123-010000000000-B100000000\.parquet$/);
  });
});
