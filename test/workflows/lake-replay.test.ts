// Replaying the rows a lake batch set aside, on real local Spark + Hudi: a value that does not fit its
// lake type is quarantined by upsertLakeTable and recorded as a failed event; once a person widens
// the column's lake type in the control plane, replayLakeRows reads exactly that row from its raw
// file and applies it (and adds it to the change log), once however often it is submitted; an
// attempt before the fix sets it aside again, and the next attempt takes it from there. A change older than the stored row
// replays as still stale, set aside again beside the original; set-aside rows or raw files that are
// gone fail the replay for good, naming them. Real Temporal, PostgreSQL, S3 server and Spark; a
// scratch control plane and buckets; raw files written directly in DMS's format.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createLakeReplayActivity } from '../../activities/lake/replay';
import { WorkflowId } from '../../lib/common/temporal';
import type { TableRecord } from '../../lib/control-plane/store';
import { changelogBasePath, hudiTableName, lakeBasePath } from '../../lib/lake/batches';
import { SparkSqlQueryEngine } from '../../lib/lake/query';
import { ErrorType } from '../../lib/common/errors';
import { type ReplayLakeRowsInput, type ReplayLakeRowsResult } from '../../lib/lake/replay';
import { encodeDmsParquet } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey, rawTableOf } from '../../lib/raw-zone/keys';
import type { LakeColumn } from '../../lib/tables/definition';
import type { UpsertLakeTableResult } from '../../workflows/upsertLakeTable';
import { CaptureHarness } from '../support/capture-harness';
import { asSourceValues } from '../support/lake';
import { readPostgresTable } from '../support/replay';

// Activity failures are expected in some tests: keep the SDK's warnings about them out of the output.
const quiet = new DefaultLogger('ERROR');

interface FailedEventRow {
  event_id: string;
  error_type: 'StaleChange' | 'UncastableValue';
  data_ref: { uri: string; batchId: string; rows: number };
}

describe('replayLakeRows (set-aside rows through the lake job again, local Spark + Hudi)', () => {
  const h = new CaptureHarness({ engine: 'postgres', lake: true, tables: [['lab_orders', 'ordered_at', { hudiTableType: 'COPY_ON_WRITE' }]] });
  before(() => h.start());
  after(() => h.stop());

  const orders = (): TableRecord => h.tables[0]!;
  const tableKeyOf = (t: TableRecord) => `${h.source}.${t.schemaName}.${t.tableName}`;
  const upsert = async (t: TableRecord): Promise<UpsertLakeTableResult> =>
    (await h.client.workflow.execute('upsertLakeTable', {
      taskQueue: h.config.temporal.taskQueues.control,
      workflowId: h.nextId(WorkflowId.upsertLakeTable(tableKeyOf(t))),
      args: [{ table: tableKeyOf(t) }],
    })) as UpsertLakeTableResult;
  const replay = (input: ReplayLakeRowsInput): Promise<ReplayLakeRowsResult> => {
    const activity = createLakeReplayActivity({ config: h.config, controlPlane: h.controlPlane, s3: h.adapters.s3, runner: h.adapters.spark });
    return new MockActivityEnvironment(undefined, { logger: quiet }).run(activity.replayLakeRows, input);
  };
  const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    const result = await work();
    return [result, (Date.now() - started) / 1000];
  };

  /** A raw CDC file as DMS delivers it; change sequences `<seqPrefix><8 hex>`. */
  async function putRawFile(t: TableRecord, day: string, seqPrefix: string, changes: { op: 'I' | 'U' | 'D'; values: Record<string, string | null> }[], columns: LakeColumn[] = t.columns): Promise<string> {
    const seq = (i: number) => `${seqPrefix}${i.toString(16).toUpperCase().padStart(8, '0')}`;
    const commitTimestamp = `${day} 01:00:00.000000`;
    const key = cdcObjectKey(rawTableOf(t), commitTimestamp, seq(0));
    const body = await encodeDmsParquet({ table: tableKeyOf(t), columns, previousChangeSeq: '', changes: changes.map((c, i) => ({ op: c.op, commitTimestamp, changeSeq: seq(i), values: c.values })) });
    await h.adapters.s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: key, Body: body }));
    return key;
  }

  async function failedEvents(): Promise<FailedEventRow[]> {
    return (await h.controlPlane.pool.query<FailedEventRow>("SELECT event_id, error_type, data_ref FROM failed_events WHERE pipeline = 'lake-upsert' ORDER BY event_id")).rows;
  }

  const inputOf = (e: FailedEventRow, attempt: number): ReplayLakeRowsInput => ({ table: tableKeyOf(orders()), eventId: Number(e.event_id), attempt, errorType: e.error_type, dataRef: e.data_ref });

  async function rejectsWith(p: Promise<unknown>, type: string, pattern: RegExp): Promise<void> {
    await assert.rejects(p, (err: unknown) => {
      let cur: unknown = err;
      while (cur instanceof Error && !(cur instanceof ApplicationFailure)) cur = cur.cause;
      assert.ok(cur instanceof ApplicationFailure, `an ApplicationFailure, not ${String(err)}`);
      assert.equal(cur.type, type);
      assert.equal(cur.nonRetryable, true);
      assert.match(cur.message, pattern);
      return true;
    });
  }

  let staleRawKey = '';
  let staleEvent: FailedEventRow | undefined;

  it('applies a quarantined row once its column is widened, and a second identical replay applies nothing twice', async (ctx) => {
    const t = orders();
    const source = await readPostgresTable(h.sourceUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
    const base = [...source.values()][0]!;
    const values = (id: string, changes: Record<string, string | null> = {}) => asSourceValues(t, { ...base, order_id: id, order_number: `REPLAY-${id}`, ...changes });
    // The source sends ordering_doctor_id as text here; 3000000000 does not fit the lake type int.
    const doctorAsText = t.columns.map((c) => (c.name === 'ordering_doctor_id' ? { ...c, lakeType: 'string' } : c));
    await putRawFile(
      t,
      '2024-03-01',
      '0'.repeat(15) + '9',
      [
        { op: 'I', values: values('9100001', { ordering_doctor_id: '7' }) },
        { op: 'I', values: values('9100002', { ordering_doctor_id: '3000000000' }) },
        { op: 'I', values: values('9100003', { ordering_doctor_id: '8', status: 'resulted' }) },
      ],
      doctorAsText,
    );
    const first = await upsert(t);
    assert.equal(first.totals.rowsQuarantined, 1, JSON.stringify(first.totals));
    assert.equal(first.totals.rowsUpserted, 2);
    // A late file with an older change of 9100003: set aside by the ordering guard.
    staleRawKey = await putRawFile(t, '2024-02-01', '0'.repeat(15) + '5', [{ op: 'U', values: values('9100003', { ordering_doctor_id: '8', status: 'cancelled' }) }]);
    const second = await upsert(t);
    assert.equal(second.totals.rowsStale, 1, JSON.stringify(second.totals));
    const [quarantined, stale] = await failedEvents();
    assert.equal(quarantined?.error_type, 'UncastableValue');
    assert.equal(stale?.error_type, 'StaleChange');
    staleEvent = stale;

    // Replayed before anyone fixed anything: the row still does not cast, and is set aside again
    // beside the original, in the same format, for the next attempt to take from there.
    const [unfixed, unfixedSeconds] = await timed(() => replay(inputOf(quarantined, 1)));
    ctx.diagnostic(`replay of the quarantined row before the fix: ${unfixedSeconds.toFixed(1)} s`);
    assert.equal(unfixed.rowsApplied, 0, unfixed.reason);
    assert.equal(unfixed.rowsStillSetAside, 1);
    assert.equal(unfixed.instant, null);
    assert.equal(unfixed.stillSetAsideUri, `${quarantined.data_ref.uri.replace(/\/$/, '')}__retry/replay-${quarantined.event_id}-1/`);
    assert.match(unfixed.reason, /1 still set aside \(1 still do not cast\), e\.g\. column ordering_doctor_id: value 3000000000 is not a int$/);

    // A person widens the column: bigint, as the source has it now.
    const widened = t.columns.map((c) => (c.name === 'ordering_doctor_id' ? { ...c, lakeType: 'bigint' } : c));
    await h.controlPlane.pool.query('UPDATE tables SET columns = $1 WHERE table_id = $2', [JSON.stringify(widened), t.tableId]);

    const [applied, seconds] = await timed(() => replay(inputOf(quarantined, 2)));
    ctx.diagnostic(`replay of the quarantined row after the fix: ${seconds.toFixed(1)} s (${applied.figures?.seconds ?? '-'} s in the job)`);
    assert.equal(applied.replayedFrom, unfixed.stillSetAsideUri, 'the second attempt takes what the first left');
    assert.equal(applied.rowsApplied, quarantined.data_ref.rows, applied.reason);
    assert.equal(applied.rowsStillSetAside, 0, applied.reason);
    assert.equal(applied.stillSetAsideUri, null);
    assert.equal(applied.alreadyApplied, false);
    assert.match(applied.instant ?? '', /^\d{14,17}$/);
    assert.equal(applied.figures?.rowsRead, 1, 'only the set-aside row is read back, not the rest of its file');
    assert.match(applied.reason, /^replay-\d+-2: 1 of 1 set-aside row\(s\) replayed from their raw files; 1 applied \(1 upserted, 0 deleted\); none still set aside$/);

    // Submitted again (a retried activity): the commit is found in the timeline and reported alike.
    const [again, againSeconds] = await timed(() => replay(inputOf(quarantined, 2)));
    ctx.diagnostic(`the same replay again: ${againSeconds.toFixed(1)} s`);
    assert.equal(again.alreadyApplied, true);
    assert.equal(again.instant, applied.instant);
    assert.equal(again.rowsApplied, applied.rowsApplied);
    assert.equal(again.rowsStillSetAside, 0);
    // The next attempt finds that the previous replay left nothing: no Spark job at all.
    const [next, nextSeconds] = await timed(() => replay(inputOf(quarantined, 3)));
    assert.ok(nextSeconds < 5, `no job for an event with nothing left (${nextSeconds} s)`);
    assert.equal(next.rowsApplied, 0);
    assert.equal(next.rowsStillSetAside, 0);
    assert.match(next.reason, /nothing left to replay: replay-\d+-2 replayed every row/);

    // The stale change replays as still stale: set aside again, the table untouched.
    const [stillStale, staleSeconds] = await timed(() => replay(inputOf(stale, 1)));
    ctx.diagnostic(`replay of the stale change: ${staleSeconds.toFixed(1)} s`);
    assert.equal(stillStale.rowsApplied, 0, stillStale.reason);
    assert.equal(stillStale.rowsStillSetAside, 1);
    assert.equal(stillStale.instant, null);
    assert.equal(stillStale.stillSetAsideUri, `${stale.data_ref.uri.replace(/\/$/, '')}__retry/replay-${stale.event_id}-1/`);
    assert.match(stillStale.reason, /1 still set aside \(1 older than the stored row\), e\.g\. an older change than the stored row \(ordering guard\)$/);

    // One query: the lake table, its change log, and the stale row set aside again.
    const engine = new SparkSqlQueryEngine(h.adapters.spark, h.adapters.s3, h.config);
    const changelog = `${hudiTableName(t)}_changelog`;
    const result = await engine.query(
      [
        { name: hudiTableName(t), basePath: lakeBasePath(h.config, t), tableType: t.hudiTableType },
        { name: changelog, basePath: changelogBasePath(h.config, t), tableType: 'COPY_ON_WRITE' },
      ],
      `SELECT 'lake' AS src, to_json(struct(order_id, ordering_doctor_id, status, _danau_batch_id)) AS row FROM ${hudiTableName(t)}
       UNION ALL SELECT 'changelog', to_json(struct(order_id, _danau_change_seq, _danau_batch_id)) FROM ${changelog}
       UNION ALL SELECT 'still', to_json(struct(*)) FROM json.\`${stillStale.stillSetAsideUri}\``,
    );
    const lake = result.rows.filter((r) => r.src === 'lake').map((r) => JSON.parse(String(r.row)) as Record<string, unknown>);
    lake.sort((a, b) => Number(a.order_id) - Number(b.order_id));
    assert.deepEqual(
      lake.map((r) => [r.order_id, r.ordering_doctor_id, r.status]),
      [
        [9100001, 7, base.status],
        [9100002, 3000000000, base.status],
        [9100003, 8, 'resulted'],
      ],
    );
    assert.match(String(lake[1]!._danau_batch_id), new RegExp(`-replay-${quarantined.event_id}-2$`));
    // Every change once in the change log: the replayed row added by its replay, the stale change
    // (there since its batch) not written again by the stale replay.
    const changes = result.rows
      .filter((r) => r.src === 'changelog')
      .map((r) => JSON.parse(String(r.row)) as { order_id: number; _danau_change_seq: string; _danau_batch_id: string })
      .map((r) => `${r.order_id} ${r._danau_change_seq.slice(0, 16)} ${r._danau_batch_id.includes('-replay-') ? r._danau_batch_id.replace(/^.*-replay-/, 'replay-') : 'batch'}`)
      .sort();
    assert.deepEqual(changes, [
      `9100001 ${'0'.repeat(15)}9 batch`,
      `9100002 ${'0'.repeat(15)}9 replay-${quarantined.event_id}-2`,
      `9100003 ${'0'.repeat(15)}5 batch`,
      `9100003 ${'0'.repeat(15)}9 batch`,
    ]);
    const still = result.rows.filter((r) => r.src === 'still').map((r) => JSON.parse(String(r.row)) as Record<string, unknown>);
    assert.equal(still.length, 1);
    assert.equal(still[0]!.order_id, '9100003');
    assert.equal(still[0]!.Op, 'U');
    assert.match(String(still[0]!._danau_file), new RegExp(`${staleRawKey.replace(/[.]/g, '[.]')}$`));
  });

  it('fails for good, naming what is gone, when the set-aside rows or their raw file no longer exist', async () => {
    const gone = `s3://${h.processedBucket}/_danau/batches/no-such-batch/stale/`;
    await rejectsWith(replay({ ...inputOf(staleEvent!, 1), dataRef: { uri: gone, batchId: 'no-such-batch', rows: 1 } }), ErrorType.ReplayDataMissing, new RegExp(`the set-aside rows at ${gone} no longer exist`));
    // The raw file archived away (and not recovered): the job finds it gone before reading anything.
    await h.adapters.s3.send(new DeleteObjectCommand({ Bucket: h.bucket, Key: staleRawKey }));
    await rejectsWith(replay(inputOf(staleEvent!, 2)), ErrorType.ReplayDataMissing, new RegExp(`1 raw file\\(s\\) the set-aside rows .* are no longer in the raw zone .*${staleRawKey.split('/').at(-1)!.replace(/[.]/g, '[.]')}`));
  });
});
