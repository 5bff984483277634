// upsertLakeTable end to end on PostgreSQL sources: capture into the raw zone, then the lake job on
// real local Spark + Hudi writes the processed zone, and Spark SQL over the Hudi tables equals the
// source tables key for key and value for value, for COPY_ON_WRITE and MERGE_ON_READ (`_rt`), after
// deletes, primary-key updates, a late file and a batch submitted twice. Real Temporal, PostgreSQL,
// S3 server and Spark; a scratch control plane and buckets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowId } from '../../lib/common/temporal';
import type { TableRecord } from '../../lib/control-plane/store';
import { hudiTableName, lakeBasePath } from '../../lib/lake/batches';
import { SparkSqlQueryEngine, type LakeTableRef } from '../../lib/lake/query';
import { encodeDmsParquet } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey, rawTableOf } from '../../lib/raw-zone/keys';
import { generateChanges } from '../../scripts/sample/generator';
import type { UpsertLakeTableResult } from '../../workflows/upsertLakeTable';
import { CaptureHarness } from '../support/capture-harness';
import { asSourceValues, canonicalLakeRow } from '../support/lake';
import { readPostgresTable, type CanonicalRow } from '../support/replay';

describe('upsertLakeTable (PostgreSQL sources, local Spark + Hudi)', () => {
  const h = new CaptureHarness({
    engine: 'postgres',
    lake: true,
    tables: [
      // Two commits retained, so a test can pull incrementally from an instant the cleaner has passed.
      ['lab_orders', 'ordered_at', { hudiTableType: 'COPY_ON_WRITE', cleanerCommitsRetained: 2 }],
      ['lab_results', 'resulted_at', { hudiTableType: 'MERGE_ON_READ', compactionDeltaCommits: 3 }],
    ],
  });
  before(() => h.start());
  after(() => h.stop());

  const tableKeyOf = (t: TableRecord) => `${h.source}.${t.schemaName}.${t.tableName}`;
  const upsert = async (t: TableRecord): Promise<UpsertLakeTableResult> =>
    (await h.client.workflow.execute('upsertLakeTable', {
      taskQueue: h.config.temporal.taskQueues.control,
      workflowId: h.nextId(WorkflowId.upsertLakeTable(tableKeyOf(t))),
      args: [{ table: tableKeyOf(t) }],
    })) as UpsertLakeTableResult;

  /** Reads every processed table once through Spark SQL and compares each with its source table (plus `extra` rows only the lake has). */
  async function assertLakeMatchesSource(extra: Record<string, Map<string, CanonicalRow>> = {}): Promise<void> {
    const engine = new SparkSqlQueryEngine(h.adapters.spark, h.adapters.s3, h.config);
    const refs: LakeTableRef[] = h.tables.map((t) => ({ name: hudiTableName(t), basePath: lakeBasePath(h.config, t), tableType: t.hudiTableType }));
    // MERGE_ON_READ is read through its real-time view (base files merged with logs).
    const sql = h.tables.map((t) => `SELECT '${t.tableName}' AS t, to_json(struct(*)) AS row FROM ${hudiTableName(t)}${t.hudiTableType === 'MERGE_ON_READ' ? '_rt' : ''}`).join(' UNION ALL ');
    const result = await engine.query(refs, sql, { maxRows: 100_000 });
    assert.equal(result.truncated, false);
    for (const t of h.tables) {
      const lake = new Map<string, CanonicalRow>();
      for (const r of result.rows.filter((r) => r.t === t.tableName)) {
        const row = canonicalLakeRow(t, r.row);
        const key = t.primaryKey.map((k) => row[k]).join('|');
        assert.ok(!lake.has(key), `${t.tableName}: key ${key} appears twice in the lake`);
        lake.set(key, row);
      }
      const source = await readPostgresTable(h.sourceUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
      for (const [key, row] of extra[t.tableName] ?? []) source.set(key, row);
      assert.equal(lake.size, source.size, `${t.tableName}: row count`);
      for (const [key, row] of source) assert.deepEqual(lake.get(key), row, `${t.tableName} row ${key}`);
    }
  }

  it('applies the full load, then changes with deletes and primary-key updates, and the lake equals the source', async () => {
    await h.capture();
    for (const t of h.tables) {
      const result = await upsert(t);
      assert.equal(result.batches.length, 1, JSON.stringify(result));
      assert.ok(result.totals.rowsUpserted > 0);
      assert.match(result.latestInstant ?? '', /^\d{14,17}$/);
    }
    await generateChanges(h.config.environment, { changes: 120, seed: 21 });
    const admin = new pg.Client({ connectionString: h.sourceUrl });
    await admin.connect();
    try {
      await admin.query('UPDATE lab_results SET result_id = (SELECT max(result_id) + 1 FROM lab_results) WHERE result_id = (SELECT min(result_id) FROM lab_results)');
      await admin.query('DELETE FROM lab_orders WHERE order_id = (SELECT max(order_id) FROM lab_orders) AND NOT EXISTS (SELECT 1 FROM lab_results r WHERE r.order_id = lab_orders.order_id)');
      // A row whose partition field moves to another day: with the non-global index the old copy must go.
      await admin.query("UPDATE lab_orders SET ordered_at = ordered_at - interval '3 days', updated_at = now() WHERE order_id = (SELECT min(order_id) FROM lab_orders)");
    } finally {
      await admin.end();
    }
    await h.capture();
    for (const t of h.tables) {
      const result = await upsert(t);
      assert.equal(result.batches.length, 1);
      if (t.tableName === 'lab_results') assert.ok(result.totals.rowsDeleted > 0, 'a changed key deletes the old one');
      else assert.ok(result.batches[0]!.result.rowsMoved >= 1, 'the row that changed day moved partition');
    }
    await assertLakeMatchesSource();
  });

  const orders = () => h.tables.find((t) => t.tableName === 'lab_orders')!;
  const engine = () => new SparkSqlQueryEngine(h.adapters.spark, h.adapters.s3, h.config);
  const ref = (t: TableRecord): LakeTableRef => ({ name: hudiTableName(t), basePath: lakeBasePath(h.config, t), tableType: t.hudiTableType, cleanerCommitsRetained: t.cleanerCommitsRetained });

  /** A raw file as DMS would deliver it, for an older day, with change sequences older than anything captured. */
  async function putLateFile(t: TableRecord, day: string, seqPrefix: string, changes: { op: 'I' | 'U' | 'D'; values: Record<string, string | null> }[], columns = t.columns): Promise<string> {
    const seq = (i: number) => `${seqPrefix}${i.toString(16).toUpperCase().padStart(8, '0')}`;
    const commitTimestamp = `${day} 01:00:00.000000`;
    const key = cdcObjectKey(rawTableOf(t), commitTimestamp, seq(0));
    const body = await encodeDmsParquet({
      table: tableKeyOf(t),
      columns,
      previousChangeSeq: '',
      changes: changes.map((c, i) => ({ op: c.op, commitTimestamp, changeSeq: seq(i), values: c.values })),
    });
    await h.adapters.s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: key, Body: body }));
    return key;
  }

  it('takes a file that arrives late for an older day: new keys applied, changes older than the stored row set aside as failed events', async () => {
    const t = orders();
    const source = await readPostgresTable(h.sourceUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
    const [existingKey, existing] = [...source][0]!;
    const lateInsert: CanonicalRow = { ...existing, order_id: '8888888', order_number: 'LATE-1' };
    const staleUpdate = { ...existing, status: 'cancelled-by-an-old-change' };
    await putLateFile(t, '2020-01-01', '0'.repeat(16), [
      { op: 'U', values: asSourceValues(t, staleUpdate) },
      { op: 'I', values: asSourceValues(t, lateInsert) },
    ]);
    const result = await upsert(t);
    assert.equal(result.batches.length, 1);
    assert.equal(result.totals.rowsStale, 1, JSON.stringify(result.totals));
    assert.equal(result.totals.rowsUpserted, 1);
    const { rows } = await h.controlPlane.pool.query<{ error_type: string; subject: string; data_ref: { uri: string; rows: number } }>(
      "SELECT error_type, subject, data_ref FROM failed_events WHERE pipeline = 'lake-upsert'",
    );
    assert.deepEqual(rows.map((r) => [r.error_type, r.subject, r.data_ref.rows]), [['StaleChange', result.batches[0]!.batchId, 1]]);
    assert.match(rows[0]!.data_ref.uri, new RegExp(`^s3://${h.processedBucket}/_danau/batches/.+/stale/$`));
    assert.notEqual(existingKey, '8888888');
    await assertLakeMatchesSource({ lab_orders: new Map([['8888888', lateInsert]]) });
  });

  it('quarantines a row whose value does not cast, naming the column, instead of failing the batch', async () => {
    const t = orders();
    const priceAsText = t.columns.map((c) => (c.name === 'price' ? { ...c, lakeType: 'string' } : c));
    const source = await readPostgresTable(h.sourceUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
    const row = [...source.values()][1]!;
    const values = asSourceValues(t, { ...row, order_id: '8888889', price: 'tiga ribu' });
    await putLateFile(t, '2020-01-02', '0'.repeat(15) + '1', [{ op: 'I', values }], priceAsText);
    const result = await upsert(t);
    assert.equal(result.totals.rowsQuarantined, 1);
    assert.equal(result.totals.rowsUpserted, 0);
    assert.equal(result.batches[0]!.result.instant, null, 'nothing to write: no commit');
    const { rows } = await h.controlPlane.pool.query<{ reason: string }>("SELECT reason FROM failed_events WHERE error_type = 'UncastableValue'");
    assert.match(rows[0]!.reason, /1 row\(s\) had a value that does not cast/);
    const quarantined = await engine().query([], `SELECT _danau_error FROM json.\`s3://${h.processedBucket}/_danau/batches/${result.batches[0]!.batchId}/quarantine/\``);
    assert.deepEqual(quarantined.rows, [{ _danau_error: 'column price: value tiga ribu is not a decimal(12,2)' }]);
  });

  it('applies a batch submitted twice once: a rerun after a crash before the commit was recorded finds it in the Hudi timeline', async () => {
    const t = orders();
    const batches = await h.controlPlane.lakeBatches(t.tableId);
    const applied = batches.filter((b) => b.instant).at(-1)!;
    const before = await h.controlPlane.getCheckpoint('lake', tableKeyOf(t));
    // As if the worker died after the job committed to Hudi but before the control plane heard of it.
    await h.controlPlane.pool.query("UPDATE lake_batches SET status = 'planned', hudi_instant = NULL WHERE batch_id = $1", [applied.batchId]);
    const result = await upsert(t);
    assert.equal(result.batches.length, 1);
    assert.equal(result.batches[0]!.resumed, true);
    assert.equal(result.batches[0]!.batchId, applied.batchId);
    assert.equal(result.batches[0]!.result.alreadyApplied, true);
    assert.equal(result.batches[0]!.result.instant, applied.instant);
    assert.equal(result.totals.rowsUpserted, 0);
    assert.deepEqual(await h.controlPlane.getCheckpoint('lake', tableKeyOf(t)), before);
  });

  it('pulls changes incrementally by commit time, and reports a start the cleaner has passed instead of returning less', async () => {
    const t = orders();
    const instants = (await h.controlPlane.lakeBatches(t.tableId)).map((b) => b.instant).filter((i): i is string => Boolean(i));
    assert.ok(instants.length >= 3, `need three commits, have ${instants.join(', ')}`);
    const [first, , last] = [instants[0]!, instants[1]!, instants.at(-1)!];
    const secondLast = instants.at(-2)!;
    const safe = await engine().query([{ ...ref(t), incremental: { beginInstant: secondLast } }], `SELECT order_id FROM ${hudiTableName(t)}_changes`);
    assert.deepEqual(safe.rows, [{ order_id: 8888888 }], 'only the late insert was committed after the second-last instant');
    assert.equal(safe.incremental[0]!.startCleaned, false);
    assert.equal(safe.incremental[0]!.latestInstant, last);

    const fallback = await engine().query([{ ...ref(t), incremental: { beginInstant: first, onCleaned: 'full' } }], `SELECT count(*) AS n FROM ${hudiTableName(t)}_changes`);
    assert.equal(fallback.incremental[0]!.startCleaned, true);
    assert.equal(fallback.incremental[0]!.fallback, 'full-scan');
    await assert.rejects(
      engine().query([{ ...ref(t), incremental: { beginInstant: first } }], `SELECT count(*) FROM ${hudiTableName(t)}_changes`),
      new RegExp(`table ${hudiTableName(t)}: incremental pull from ${first} is no longer possible: the cleaner keeps the last 2 commits`),
    );
  });
});

