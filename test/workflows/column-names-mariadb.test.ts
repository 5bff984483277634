// Issue 12 on MariaDB, through to the lake: a table whose columns have spaces, mixed case, reserved
// words, a backtick and a name over the lake's length limit is onboarded with lake names, captured
// with its names quoted as MariaDB quotes them (the raw files keep the source's names, as DMS writes
// them), and one lake upsert writes a Hudi table whose columns are the lake names, keyed, combined and
// partitioned through the mapping. Real Temporal, MariaDB (binlog), S3 server, Spark + Hudi.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { WorkflowId } from '../../lib/common/temporal';
import { readRawFileInfo } from '../../lib/raw-zone/read';
import { LAKE_NAME_MAX } from '../../lib/tables/lake-names';
import type { UpsertLakeTableResult } from '../../workflows/upsertLakeTable';
import { CaptureHarness } from '../support/capture-harness';
import { getBytes, listRawKeys, readMysqlTable } from '../support/replay';
import { uniqueSuffix } from '../support/stack';

// 64 characters: MariaDB's limit, one over the lake's.
const LONG = 'Catatan Apoteker Tentang Interaksi Obat Yang Perlu Diperhatikan'.padEnd(64, 'X');

describe('captureSource and upsertLakeTable with source column names (MariaDB)', () => {
  const table = `dispensing_${uniqueSuffix()}`;
  const h = new CaptureHarness({ engine: 'mysql', lake: true, tables: [[table, 'Dispensed At', { precombineField: 'Updated At' }]] });
  let conn: mysql.Connection;
  const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;

  before(async () => {
    conn = await mysql.createConnection({ uri: h.sourceUrl });
    await conn.query(`CREATE TABLE ${table} (
      \`Dispense ID\` bigint PRIMARY KEY, \`Dispensed By\` varchar(80), \`order\` int, \`group\` varchar(20), \`we\`\`ird\` varchar(20),
      ${q(LONG)} varchar(40), \`Dispensed At\` datetime(6) NOT NULL, \`Updated At\` datetime(6) NOT NULL)`);
    await conn.query(`INSERT INTO ${table} VALUES
      (1, 'apt. A', 10, 'g1', 'w1', 'long 1', '2026-11-01 08:00:00', '2026-11-01 08:00:00'),
      (2, 'apt. B', 20, 'g0', 'w2', 'long 2', '2026-11-02 09:00:00', '2026-11-02 09:00:00'),
      (3, 'apt. C', 30, 'g1', NULL, 'long 3', '2026-11-02 10:00:00', '2026-11-02 10:00:00')`);
    await h.start();
  });
  after(async () => {
    await h.stop();
    await conn.query(`DROP TABLE IF EXISTS ${table}`);
    await conn.end();
  });

  it('captures the full load and changes; the raw files hold the values under the source names', async () => {
    const t = h.tables[0]!;
    const long = t.columns.find((c) => c.name === LONG)!;
    assert.ok(long.lakeName.length <= LAKE_NAME_MAX && /^catatan_apoteker_.*_[0-9a-f]{8}$/.test(long.lakeName), long.lakeName);
    assert.equal(t.columns.find((c) => c.name === 'we`ird')!.lakeName, 'we_ird');

    await h.capture();
    await conn.query(`INSERT INTO ${table} VALUES (4, 'apt. D', 40, 'g0', 'w4', 'long 4', '2026-11-03 08:00:00', '2026-11-03 08:00:00')`);
    await conn.query(`UPDATE ${table} SET \`Dispensed By\` = 'apt. B2', \`we\`\`ird\` = 'w2b', \`Updated At\` = '2026-11-03 09:00:00' WHERE \`Dispense ID\` = 2`);
    await conn.query(`DELETE FROM ${table} WHERE \`Dispense ID\` = 1`);
    const status = await h.capture();
    assert.ok(status.last!.changes >= 3, `captured ${status.last!.changes} changes`);
    for (const key of await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'clinic', table })) {
      const names = (await readRawFileInfo(key, await getBytes(h.adapters.s3, h.bucket, key))).schema.slice(1).map((e) => e.name);
      assert.deepEqual(names.slice(-8), ['Dispense ID', 'Dispensed By', 'order', 'group', 'we`ird', LONG, 'Dispensed At', 'Updated At'], key);
    }
    await h.assertRawZoneMatchesSource();
  });

  it('upserts into a Hudi table whose columns are the lake names, keyed and partitioned through the mapping', async () => {
    const t = h.tables[0]!;
    const ref = `${h.source}.clinic.${table}`;
    const result = (await h.client.workflow.execute('upsertLakeTable', {
      taskQueue: h.config.temporal.taskQueues.control,
      workflowId: h.nextId(WorkflowId.upsertLakeTable(ref)),
      args: [{ table: ref }],
    })) as UpsertLakeTableResult;
    assert.equal(result.totals.rowsQuarantined, 0, JSON.stringify(result));
    assert.ok(result.totals.rowsUpserted > 0, JSON.stringify(result));

    // The base files of the one commit, read directly (no second Spark job). Hudi writes gzip Parquet.
    const prefix = `${h.source}/clinic/${table}/`;
    const listed = await h.adapters.s3.send(new ListObjectsV2Command({ Bucket: h.processedBucket, Prefix: prefix }));
    const files = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.endsWith('.parquet') && !k.includes('/.hoodie/'));
    assert.ok(files.length > 0, `no base file under ${prefix}`);
    const { parquetMetadata, parquetReadObjects } = await import('hyparquet');
    const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };
    const lake = new Map<string, Record<string, unknown>>();
    const partitions = new Set<string>();
    for (const key of files) {
      const bytes = await getBytes(h.adapters.s3, h.processedBucket, key);
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const names = parquetMetadata(file).schema.slice(1).map((e) => e.name).filter((n) => !n.startsWith('_hoodie_') && !n.startsWith('_danau_'));
      assert.deepEqual(new Set(names), new Set([...t.columns.map((c) => c.lakeName), 'dt']), key);
      for (const row of (await parquetReadObjects({ file, compressors })) as Record<string, unknown>[]) {
        assert.equal(row._hoodie_record_key, String(row.dispense_id), 'the record key is the mapped primary key');
        partitions.add(String(row._hoodie_partition_path));
        lake.set(String(row.dispense_id), row);
      }
    }
    assert.deepEqual([...partitions].sort(), ['dt=2026-11-02', 'dt=2026-11-03'], 'partitioned by Dispensed At (platform time)');

    const source = await readMysqlTable(h.sourceUrl, 'clinic', table, t.columns, t.primaryKey);
    assert.equal(lake.size, source.size);
    for (const [key, row] of source) {
      const stored = lake.get(key);
      assert.ok(stored, `row ${key} is not in the lake`);
      for (const c of t.columns.filter((c) => c.lakeType === 'string' || c.lakeType === 'int')) {
        assert.equal(stored[c.lakeName] === null || stored[c.lakeName] === undefined ? null : String(stored[c.lakeName]), row[c.name], `row ${key} ${c.lakeName}`);
      }
    }
  });
});
