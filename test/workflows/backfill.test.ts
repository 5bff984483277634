// backfillTable end to end, on real local Spark + Hudi and the PostgreSQL warehouse: a table onboarded
// with two lake-type mistakes (ordering_doctor_id as int, too narrow for some rows, which are
// quarantined; price as float, which stores 123.45 as 123.4499969...) is upserted, its models built,
// and one day of its raw files archived away. A person fixes both types in the control plane and
// backfills a range holding that day: the day is recovered from its archive, its changes applied
// again with the new types (the quarantined rows now land, an applied row is rewritten with the exact
// value, a change the row has moved on from since is left alone), rows outside the range are not
// touched, the table's lake checkpoint, its consumed files and the failed-event store do not move,
// and the models reading the table are rebuilt without a duplicate version; a second identical
// backfill changes nothing. Real Temporal, PostgreSQL, S3 server and Spark; a scratch control plane,
// buckets and warehouse; raw files written directly in DMS's format.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { WorkflowId } from '../../lib/common/temporal';
import type { TableRecord } from '../../lib/control-plane/store';
import { changelogBasePath, hudiTableName, lakeBasePath } from '../../lib/lake/batches';
import { SparkSqlQueryEngine } from '../../lib/lake/query';
import { parseModelsFile } from '../../lib/models/definition';
import { encodeDmsParquet } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey, rawTableOf } from '../../lib/raw-zone/keys';
import type { LakeColumn } from '../../lib/tables/definition';
import type { ArchivePartitionResult } from '../../workflows/archivePartition';
import type { BackfillStatus, BackfillTableResult } from '../../workflows/backfillTable';
import type { BuildModelsResult } from '../../workflows/buildModels';
import type { UpsertLakeTableResult } from '../../workflows/upsertLakeTable';
import { CaptureHarness } from '../support/capture-harness';
import { asSourceValues } from '../support/lake';
import { readPostgresTable, type CanonicalRow } from '../support/replay';

// Archival needs a bucket of its own: zip keys name schema and table, not the source.
const archiveBucket = `danau-test-arch-${randomBytes(4).toString('hex')}`;
process.env.DANAU_ARCHIVE_BUCKET = archiveBucket;

const SEQ = { a: `${'0'.repeat(15)}1`, b: `${'0'.repeat(15)}5`, c: `${'0'.repeat(15)}9` };
const seqOf = (prefix: string, i: number) => `${prefix}${i.toString(16).toUpperCase().padStart(8, '0')}`;

describe('backfillTable (a date range applied again after a lake-type fix, local Spark + Hudi, PostgreSQL warehouse)', () => {
  const h = new CaptureHarness({ engine: 'postgres', lake: true, tables: [['lab_orders', 'ordered_at', { hudiTableType: 'COPY_ON_WRITE' }]] });
  let wh: pg.Client;
  before(async () => {
    await h.start();
    await h.adapters.s3.send(new CreateBucketCommand({ Bucket: archiveBucket }));
    wh = new pg.Client({ connectionString: h.warehouseDb!.url });
    await wh.connect();
    const source = `${h.source}.public.lab_orders`;
    const parsed = parseModelsFile({
      models: [
        { name: 'dim_order', kind: 'scd1_dimension', source, naturalKey: ['order_id'], surrogateKey: 'order_key', columns: ['order_number', 'status', 'price'], deletePolicy: 'soft' },
        { name: 'dim_order_status', kind: 'scd2_dimension', source, naturalKey: ['order_id'], surrogateKey: 'order_version_key', trackedColumns: ['status'], columns: ['order_number'] },
      ],
      reporting: [{ name: 'rpt_orders_by_status', kind: 'table', dependsOn: ['dim_order'], sql: 'SELECT status, COUNT(*) AS orders FROM dim_order GROUP BY status' }],
    });
    for (const m of parsed.models) await h.controlPlane.upsertModel(m, 'test');
    for (const r of parsed.reporting) await h.controlPlane.upsertReporting(r, 'test');
  });
  after(async () => {
    await wh?.end();
    if (h.adapters) {
      for (;;) {
        const listed = await h.adapters.s3.send(new ListObjectsV2Command({ Bucket: archiveBucket })).catch(() => null);
        const objects = (listed?.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (!objects.length) break;
        await h.adapters.s3.send(new DeleteObjectsCommand({ Bucket: archiveBucket, Delete: { Objects: objects } }));
      }
      await h.adapters.s3.send(new DeleteBucketCommand({ Bucket: archiveBucket })).catch(() => undefined);
    }
    await h.stop();
    delete process.env.DANAU_ARCHIVE_BUCKET;
  });

  const orders = (): TableRecord => h.tables[0]!;
  const key = () => `${h.source}.public.lab_orders`;
  const control = () => h.config.temporal.taskQueues.control;
  const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    const result = await work();
    return [result, (Date.now() - started) / 1000];
  };
  const setLakeTypes = async (types: Record<string, string>): Promise<LakeColumn[]> => {
    const columns = orders().columns.map((c) => (types[c.name] ? { ...c, lakeType: types[c.name]! } : c));
    await h.controlPlane.pool.query('UPDATE tables SET columns = $1 WHERE table_id = $2', [JSON.stringify(columns), orders().tableId]);
    return columns;
  };
  const startBackfill = () =>
    h.client.workflow.start('backfillTable', {
      taskQueue: control(),
      workflowId: h.nextId(WorkflowId.backfill(key(), '2024-03-04', '2024-03-06')),
      args: [{ table: key(), startDate: '2024-03-04', endDate: '2024-03-06', waitPollSeconds: 2 }],
    });
  const stepsOf = (r: BackfillTableResult) => Object.fromEntries(r.steps.map((s) => [s.name, s.status]));

  /** A raw CDC file as DMS delivers it, of one day; ordering_doctor_id and price travel as text. */
  async function putRawFile(day: string, seqPrefix: string, base: CanonicalRow, changes: { op: 'I' | 'U'; values: CanonicalRow }[]): Promise<string> {
    const t = orders();
    const commitTimestamp = `${day} 01:00:00.000000`;
    const objectKey = cdcObjectKey(rawTableOf(t), commitTimestamp, seqOf(seqPrefix, 0));
    const columns = t.columns.map((c) => (c.name === 'ordering_doctor_id' || c.name === 'price' ? { ...c, lakeType: 'string' } : c));
    const body = await encodeDmsParquet({
      table: key(),
      columns,
      previousChangeSeq: '',
      changes: changes.map((c, i) => ({ op: c.op, commitTimestamp, changeSeq: seqOf(seqPrefix, i), values: asSourceValues(t, { ...base, ...c.values }) })),
    });
    await h.adapters.s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: objectKey, Body: body }));
    return objectKey;
  }

  interface LakeRow {
    order_id: number;
    ordering_doctor_id: number | null;
    status: string;
    price: number;
    _danau_change_seq: string;
    _danau_batch_id: string;
    _hoodie_commit_time: string;
  }

  async function readLake(): Promise<{ lake: Map<number, LakeRow>; changelog: { order_id: number; seq: string; batch: string; price: number }[] }> {
    const t = orders();
    const engine = new SparkSqlQueryEngine(h.adapters.spark, h.adapters.s3, h.config);
    const changelog = `${hudiTableName(t)}_changelog`;
    const result = await engine.query(
      [
        { name: hudiTableName(t), basePath: lakeBasePath(h.config, t), tableType: t.hudiTableType },
        { name: changelog, basePath: changelogBasePath(h.config, t), tableType: 'COPY_ON_WRITE' },
      ],
      `SELECT 'lake' AS src, to_json(struct(order_id, ordering_doctor_id, status, CAST(price AS DOUBLE) AS price, _danau_change_seq, _danau_batch_id, _hoodie_commit_time)) AS row FROM ${hudiTableName(t)}
       UNION ALL SELECT 'changelog', to_json(struct(order_id, _danau_change_seq AS seq, _danau_batch_id AS batch, CAST(price AS DOUBLE) AS price)) FROM ${changelog}`,
    );
    const lake = new Map<number, LakeRow>();
    for (const r of result.rows.filter((r) => r.src === 'lake')) {
      const row = JSON.parse(String(r.row)) as LakeRow;
      assert.ok(!lake.has(row.order_id), `order ${row.order_id} appears twice in the lake`);
      lake.set(row.order_id, row);
    }
    const changes = result.rows.filter((r) => r.src === 'changelog').map((r) => JSON.parse(String(r.row)) as { order_id: number; seq: string; batch: string; price: number });
    return { lake, changelog: changes.sort((a, b) => a.order_id - b.order_id || a.seq.localeCompare(b.seq)) };
  }

  async function warehouse(): Promise<{ scd1: Record<string, unknown>[]; scd2: Record<string, unknown>[]; report: Record<string, unknown>[] }> {
    const scd1 = await wh.query<Record<string, unknown>>('SELECT order_id::int AS id, status, price::float8 AS price, _danau_change_seq AS seq, _danau_batch_id AS batch FROM analytics.dim_order ORDER BY order_id');
    const scd2 = await wh.query<Record<string, unknown>>('SELECT order_id::int AS id, status, is_current, _danau_change_seq AS seq, valid_from, valid_to FROM analytics.dim_order_status ORDER BY order_id, valid_from');
    const report = await wh.query<Record<string, unknown>>('SELECT status, orders::int AS n FROM analytics.rpt_orders_by_status ORDER BY status');
    return { scd1: scd1.rows, scd2: scd2.rows, report: report.rows };
  }

  async function controlPlaneState(): Promise<{ checkpoint: unknown; batches: unknown[]; files: number; failed: number }> {
    const pool = h.controlPlane.pool;
    const batches = await pool.query('SELECT batch_id, status, hudi_instant, rows_upserted, updated_at FROM lake_batches WHERE table_id = $1 ORDER BY batch_id', [orders().tableId]);
    const files = await pool.query<{ n: string }>('SELECT count(*) AS n FROM lake_files WHERE table_id = $1', [orders().tableId]);
    const failed = await pool.query<{ n: string }>('SELECT count(*) AS n FROM failed_events');
    return { checkpoint: await h.controlPlane.getCheckpoint('lake', key()), batches: batches.rows, files: Number(files.rows[0]!.n), failed: Number(failed.rows[0]!.n) };
  }

  it('recovers and applies the range again with the fixed types, leaves the rest alone, rebuilds the models without duplicates, and a second backfill changes nothing', async (ctx) => {
    const t = orders();
    // The definition as first recorded, with two mistakes.
    await setLakeTypes({ ordering_doctor_id: 'int', price: 'float' });
    const source = await readPostgresTable(h.sourceUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
    const base = [...source.values()][0]!;
    const row = (id: number, day: string, values: CanonicalRow): { op: 'I' | 'U'; values: CanonicalRow } => ({
      op: 'I',
      values: { order_id: String(id), order_number: `BACKFILL-${id}`, ordered_at: `${day}T01:00:00.000Z`, status: 'ordered', ...values },
    });
    const update = (id: number, day: string, values: CanonicalRow) => ({ ...row(id, day, values), op: 'U' as const });
    // Before the range: orders 1, 2, 6 (6 in a day partition of its own), and 3 whose doctor does not fit an int.
    await putRawFile('2024-03-01', SEQ.a, base, [
      row(9200001, '2024-03-01', { ordering_doctor_id: '7', price: '12.5' }),
      row(9200002, '2024-03-01', { ordering_doctor_id: '8', price: '20.25' }),
      row(9200003, '2024-03-01', { ordering_doctor_id: '3000000000', price: '30' }),
      row(9200006, '2024-02-20', { ordering_doctor_id: '9', price: '40.75' }),
    ]);
    // In the range: 1 is collected by a doctor that does not fit an int; 2 is collected; 4 is new (its
    // doctor does not fit either); 5 is new, at a price a float cannot hold.
    const dayB = await putRawFile('2024-03-05', SEQ.b, base, [
      update(9200001, '2024-03-01', { ordering_doctor_id: '3000000001', price: '12.5', status: 'collected' }),
      update(9200002, '2024-03-01', { ordering_doctor_id: '8', price: '20.25', status: 'collected' }),
      row(9200004, '2024-03-05', { ordering_doctor_id: '3000000002', price: '50.5' }),
      row(9200005, '2024-03-05', { ordering_doctor_id: '10', price: '123.45' }),
    ]);
    // After the range: 2 is resulted.
    await putRawFile('2024-03-09', SEQ.c, base, [update(9200002, '2024-03-01', { ordering_doctor_id: '8', price: '20.25', status: 'resulted' })]);

    const [first, upsertSeconds] = await timed(
      async () => (await h.client.workflow.execute('upsertLakeTable', { taskQueue: control(), workflowId: h.nextId(WorkflowId.upsertLakeTable(key())), args: [{ table: key() }] })) as UpsertLakeTableResult,
    );
    ctx.diagnostic(`upsert: ${upsertSeconds.toFixed(1)} s`);
    assert.equal(first.totals.rowsQuarantined, 3, JSON.stringify(first.totals));
    assert.equal(first.totals.rowsUpserted, 4, JSON.stringify(first.totals));
    const firstBatch = first.batches[0]!.batchId;
    const [built, buildSeconds] = await timed(
      async () => (await h.client.workflow.execute('buildModels', { taskQueue: control(), workflowId: h.nextId(WorkflowId.buildModels('test')), args: [{}] })) as BuildModelsResult,
    );
    ctx.diagnostic(`first model build: ${buildSeconds.toFixed(1)} s`);
    assert.deepEqual(built.models.map((m) => [m.model, m.built]).sort(), [
      ['dim_order', true],
      ['dim_order_status', true],
    ]);
    const before = await warehouse();
    assert.deepEqual([before.scd1.length, before.scd2.length], [4, 6]);
    const dim5 = before.scd1.find((r) => r.id === 9200005)!;

    // The range's day goes to the archive, its original deleted.
    const archived = (await h.client.workflow.execute('archivePartition', {
      taskQueue: control(),
      workflowId: h.nextId(WorkflowId.archivePartition(key(), 'day', '2024-03-05')),
      args: [{ table: key(), partition: '2024-03-05', level: 'day' }],
    })) as ArchivePartitionResult;
    assert.equal(archived.deleted, 1, archived.message);
    const listed = await h.adapters.s3.send(new ListObjectsV2Command({ Bucket: h.bucket, Prefix: dayB }));
    assert.equal(listed.KeyCount ?? 0, 0, 'the day is archived away');

    const state = await controlPlaneState();
    // The fix: the types the source has.
    await setLakeTypes({ ordering_doctor_id: 'bigint', price: 'double' });

    const run1 = await startBackfill();
    const [r1, seconds1] = await timed(async () => (await run1.result()) as BackfillTableResult);
    ctx.diagnostic(`backfill: ${seconds1.toFixed(1)} s; ${r1.steps.map((s) => `${s.name} ${s.status}: ${s.detail}`).join(' | ')}`);
    assert.deepEqual(stepsOf(r1), { recover: 'done', lake: 'done', models: 'done' });
    assert.equal(r1.recovered?.recovered, 1, JSON.stringify(r1.recovered));
    assert.deepEqual(r1.lake?.totals, { files: 1, rowsRead: 4, rowsUpserted: 3, rowsReapplied: 1, rowsUnchanged: 0, rowsDeleted: 0, rowsSuperseded: 1, rowsQuarantined: 0 });
    assert.equal(r1.lake?.instants.length, 1);
    assert.equal(r1.lake?.changelogInstants.length, 1);
    assert.deepEqual(r1.models.map((m) => [m.model, m.pull.rows]).sort(), [
      ['dim_order', 3],
      ['dim_order_status', 3],
    ]);
    const rebuilt = await warehouse();
    assert.deepEqual([rebuilt.scd1.length, rebuilt.scd2.length], [5, 8]);
    assert.deepEqual(r1.reporting.map((r) => r.name), ['rpt_orders_by_status']);
    // A finished run still answers its status query (the Web UI and `danau runs status` use it).
    const status = await run1.query<BackfillStatus>('status');
    assert.deepEqual(status.steps, r1.steps);

    // Again, the same range, while the table's lake step holds its id (paused before its first
    // batch): the backfill waits for it, says so, and goes on once it is done.
    const lakeStep = await h.client.workflow.signalWithStart('upsertLakeTable', { taskQueue: control(), workflowId: WorkflowId.upsertLakeTable(key()), args: [{ table: key() }], signal: 'pause' });
    const run2 = await startBackfill();
    let waiting: BackfillStatus | undefined;
    for (let i = 0; i < 240 && !waiting; i++) {
      const s = await run2.query<BackfillStatus>('status');
      if (s.steps[1]!.status === 'waiting') waiting = s;
      else await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(waiting, 'the backfill waits for the lake step');
    assert.match(waiting.steps[1]!.detail, new RegExp(`^lake-upsert/${key().replace(/\./g, '\\.')} is running \\(the table's lake step, a replay or another backfill\\); trying again every 2 s`));
    await lakeStep.signal('resume');
    assert.equal(((await lakeStep.result()) as UpsertLakeTableResult).batches.length, 0, 'the lake step had nothing new');
    const [r2, seconds2] = await timed(async () => (await run2.result()) as BackfillTableResult);
    ctx.diagnostic(`second backfill (waited for the lake step): ${seconds2.toFixed(1)} s; ${r2.steps.map((s) => `${s.name} ${s.status}: ${s.detail}`).join(' | ')}`);
    assert.equal(r2.recovered?.recovered, 0);
    assert.equal(r2.recovered?.skippedExisting, 1);
    assert.deepEqual(r2.lake?.totals, { files: 1, rowsRead: 4, rowsUpserted: 0, rowsReapplied: 0, rowsUnchanged: 3, rowsDeleted: 0, rowsSuperseded: 1, rowsQuarantined: 0 });
    assert.deepEqual(r2.lake?.instants, []);
    assert.deepEqual(r2.lake?.changelogInstants, []);
    assert.equal(stepsOf(r2).models, 'skipped');
    assert.match(r2.steps[2]!.detail, /already at the change log's newest commit/);

    // The lake: the range applied with the new types; outside it, nothing touched.
    const { lake, changelog } = await readLake();
    const instant = r1.lake.instants[0]!;
    const reapplyBatch = r1.lake.batches[0]!.batchId;
    assert.match(reapplyBatch, /-reapply-[0-9a-f]{16}$/);
    const view = (id: number) => {
      const r = lake.get(id);
      return r && [r.ordering_doctor_id, r.status, r.price, r._danau_change_seq, r._danau_batch_id === firstBatch ? 'first' : r._danau_batch_id === reapplyBatch ? 'backfill' : r._danau_batch_id, r._hoodie_commit_time === first.latestInstant ? 'first' : r._hoodie_commit_time === instant ? 'backfill' : r._hoodie_commit_time];
    };
    assert.deepEqual(view(9200001), [3000000001, 'collected', 12.5, seqOf(SEQ.b, 0), 'backfill', 'backfill'], 'a quarantined update now applied');
    assert.deepEqual(view(9200002), [8, 'resulted', 20.25, seqOf(SEQ.c, 0), 'first', 'first'], 'superseded in the range: left as it was');
    assert.equal(lake.has(9200003), false, 'outside the range: still quarantined');
    assert.deepEqual(view(9200004), [3000000002, 'ordered', 50.5, seqOf(SEQ.b, 2), 'backfill', 'backfill'], 'a quarantined insert now applied');
    assert.deepEqual(view(9200005), [10, 'ordered', 123.45, seqOf(SEQ.b, 3), 'backfill', 'backfill'], 'the same change rewritten with the exact value');
    assert.deepEqual(view(9200006), [9, 'ordered', 40.75, seqOf(SEQ.a, 3), 'first', 'first'], 'outside the range, in a partition the backfill never wrote');
    // Every change once in the change log; the range's new ones and the rewritten one from the backfill.
    assert.deepEqual(
      changelog.map((c) => `${c.order_id} ${c.seq} ${c.batch === firstBatch ? 'first' : c.batch === reapplyBatch ? 'backfill' : c.batch} ${c.price}`),
      [
        `9200001 ${seqOf(SEQ.a, 0)} first 12.5`,
        `9200001 ${seqOf(SEQ.b, 0)} backfill 12.5`,
        `9200002 ${seqOf(SEQ.a, 1)} first 20.25`,
        `9200002 ${seqOf(SEQ.b, 1)} first 20.25`,
        `9200002 ${seqOf(SEQ.c, 0)} first 20.25`,
        `9200004 ${seqOf(SEQ.b, 2)} backfill 50.5`,
        `9200005 ${seqOf(SEQ.b, 3)} backfill 123.45`,
        `9200006 ${seqOf(SEQ.a, 3)} first 40.75`,
      ],
    );

    // The control plane: the lake step's checkpoint, batches and consumed files as they were; no failed event filed.
    assert.deepEqual(await controlPlaneState(), state);
    const recorded = await h.controlPlane.pool.query<{ n: string }>("SELECT count(*) AS n FROM lake_reapply_batches WHERE status = 'committed'");
    assert.equal(Number(recorded.rows[0]!.n), 2, 'each backfill recorded its batch');

    // The models: the newly applied changes in, every version once.
    const after = await warehouse();
    assert.deepEqual(
      after.scd1.map((r) => [r.id, r.status]),
      [
        [9200001, 'collected'],
        [9200002, 'resulted'],
        [9200004, 'ordered'],
        [9200005, 'ordered'],
        [9200006, 'ordered'],
      ],
    );
    // The type-1 builder keeps a row whose change sequence equals the staged change's (lib/warehouse/scd.ts:
    // "older than what the row holds: ... or this batch run again"): order 5's rewritten change does
    // not reach it; the row stays as its first build wrote it.
    assert.deepEqual(after.scd1.find((r) => r.id === 9200005), dim5);
    assert.deepEqual(
      after.scd2.map((r) => [r.id, r.status, r.is_current, r.seq]),
      [
        [9200001, 'ordered', false, seqOf(SEQ.a, 0)],
        [9200001, 'collected', true, seqOf(SEQ.b, 0)],
        [9200002, 'ordered', false, seqOf(SEQ.a, 1)],
        [9200002, 'collected', false, seqOf(SEQ.b, 1)],
        [9200002, 'resulted', true, seqOf(SEQ.c, 0)],
        [9200004, 'ordered', true, seqOf(SEQ.b, 2)],
        [9200005, 'ordered', true, seqOf(SEQ.b, 3)],
        [9200006, 'ordered', true, seqOf(SEQ.a, 3)],
      ],
    );
    assert.deepEqual(after.report, [
      { status: 'collected', n: 1 },
      { status: 'ordered', n: 3 },
      { status: 'resulted', n: 1 },
    ]);
  });
});
