// The worker's metrics endpoint against a real control plane (a scratch database on the stack's
// PostgreSQL with every migration): platform figures read at scrape time, relayed SDK text, and
// scrape errors counted while the rest is still served.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ControlPlane, PlatformMetricRows, TableRecord } from '../../lib/control-plane/store';
import { createMetricsRegistry } from '../../lib/metrics/platform';
import { startMetricsServer, type MetricsServer } from '../../lib/metrics/server';
import { formatCommitTimestamp } from '../../lib/raw-zone/dms-file';
import { parseTableDefinition } from '../../lib/tables/definition';
import { createScratchControlPlane, uniqueSuffix, type ScratchDatabase } from '../support/stack';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text format lines (no escapes in our label values). */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one series of `name` whose labels include `labels`; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)}: ${found.length} series`);
  return found[0]?.value;
}

async function scrape(url: string): Promise<{ text: string; samples: Sample[]; contentType: string | null }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, samples: parseExposition(text), contentType: res.headers.get('content-type') };
}

/** yyyyMMdd-HHmmssffffff (UTC), as raw-zone CDC keys are named. */
function keyTime(d: Date): string {
  const iso = d.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}${iso.slice(20, 23)}000`;
}

/** A stand-in for the Temporal SDK's exporter. */
async function fakeSdkExporter(body: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const columns = [
  { name: 'id', lakeName: 'id', sourceType: 'bigint', lakeType: 'bigint', nullable: false },
  { name: 'created_at', lakeName: 'created_at', sourceType: 'timestamp with time zone', lakeType: 'timestamp', nullable: false },
  { name: 'updated_at', lakeName: 'updated_at', sourceType: 'timestamp with time zone', lakeType: 'timestamp', nullable: false },
];

describe('metrics endpoint', () => {
  let db: ScratchDatabase;
  let controlPlane: ControlPlane;
  let source: string;
  let orders: TableRecord;
  let payments: TableRecord;
  let quiet: TableRecord;
  let sdk: Awaited<ReturnType<typeof fakeSdkExporter>>;
  let server: MetricsServer;
  let reads = 0;
  const newestChange = new Date(Date.now() - 3_600_000);
  const loadedAt = new Date(Date.now() - 7_200_000);
  const key = (t: TableRecord) => `${source}.${t.schemaName}.${t.tableName}`;

  before(async () => {
    ({ db, controlPlane } = await createScratchControlPlane());
    source = `met_${uniqueSuffix()}`;
    await controlPlane.upsertSource({ name: source, engine: 'postgres', database: 'labs', connectionSecret: 'DANAU_SOURCE_LABS_URL', description: 'metrics test' }, 'test');
    const onboard = async (table: string, freshnessSlaMinutes: number) =>
      (await controlPlane.recordTable(parseTableDefinition({ source, schema: 'public', table, precombineField: 'updated_at', partitionField: 'created_at', freshnessSlaMinutes }), ['id'], columns, 'test')).table;
    orders = await onboard('orders', 30);
    payments = await onboard('payments', 15);
    quiet = await onboard('quiet', 15);

    // orders: a committed batch of the full load and two CDC files, the newest an hour old, with
    // rows of every kind and the failed events they raise; then a planned batch not yet applied.
    const older = keyTime(new Date(newestChange.getTime() - 60_000));
    const newest = keyTime(newestChange);
    const day = newest.slice(0, 8);
    const dir = `public/orders/${day.slice(0, 4)}/${day.slice(4, 6)}/${day.slice(6, 8)}`;
    await controlPlane.planLakeBatch({
      batchId: `metrics-1-${source}`,
      tableId: orders.tableId,
      files: [
        { key: 'public/orders/LOAD00000001.parquet', size: 1000 },
        { key: `${dir}/${older}-0000000A00000000.parquet`, size: 200 },
        { key: `${dir}/${newest}-0000000B00000000.parquet`, size: 30 },
      ],
    });
    await controlPlane.commitLakeBatch(
      `metrics-1-${source}`,
      { instant: '20260101000000000', alreadyApplied: false, rowsRead: 20, rowsUpserted: 12, rowsDeleted: 3, rowsStale: 1, rowsQuarantined: 4 },
      { runner: 'local', logLocation: 'test' },
      [
        { pipeline: 'lake-upsert', tableId: orders.tableId, subject: 'b1', errorType: 'StaleChange', reason: 'test', dataRef: {} },
        { pipeline: 'lake-upsert', tableId: orders.tableId, subject: 'b1', errorType: 'UncastableValue', reason: 'test', dataRef: {} },
      ],
      null,
    );
    await controlPlane.planLakeBatch({ batchId: `metrics-2-${source}`, tableId: orders.tableId, files: [{ key: `${dir}/${keyTime(new Date())}-0000000C00000000.parquet`, size: 5 }] });

    // payments: only its full load consumed, taken two hours ago; paused by schema drift, with dead
    // letters. quiet: nothing at all.
    await controlPlane.planLakeBatch({ batchId: `metrics-3-${source}`, tableId: payments.tableId, files: [{ key: 'public/payments/LOAD00000001.parquet', size: 50 }] });
    await controlPlane.commitLakeBatch(`metrics-3-${source}`, { instant: '20260101000000001', alreadyApplied: false, rowsRead: 5, rowsUpserted: 5, rowsDeleted: 0, rowsStale: 0, rowsQuarantined: 0 }, { runner: 'local', logLocation: 'test' }, [], null);
    await controlPlane.saveCheckpoints([{ pipeline: 'capture-table', subject: key(payments), position: '0000000100000004', details: { loadedAt: formatCommitTimestamp(loadedAt.toISOString()) } }]);
    await controlPlane.pauseTable(payments.tableId, 'column amount changed from decimal(8,2) to decimal(12,3)', 'test');
    for (let i = 0; i < 2; i++) {
      await controlPlane.pool.query("INSERT INTO failed_events (pipeline, table_id, subject, error_type, reason, status) VALUES ('table-pipeline', $1, $2, 'PipelineStepFailed', 'test', 'dead_letter')", [payments.tableId, `p${i}`]);
    }
    await controlPlane.pool.query("INSERT INTO failed_events (pipeline, table_id, subject, error_type, reason, status) VALUES ('archive', NULL, 'run-1', 'InvalidArchiveRequest', 'test', 'skipped')");

    // Archives of orders: one done (originals deleted), one verified and waiting.
    const archive = (partition: string, status: string, original: number, zipped: number) =>
      controlPlane.pool.query(
        `INSERT INTO archives (table_id, schema_name, table_name, archive_level, partition_value, source_prefix, file_count, original_bytes, zipped_bytes, zip_bucket, zip_key, status)
         VALUES ($1, 'public', 'orders', 'day', $2, 'public/orders/', 3, $3, $4, 'danau-archive', $5, $6)`,
        [orders.tableId, partition, original, zipped, `public/orders/${partition}.zip`, status],
      );
    await archive('2026-01-01', 'originals_deleted', 10_000, 4_000);
    await archive('2026-01-02', 'originals_deleted', 5_000, 1_500);
    await archive('2026-01-03', 'verified', 2_000, 900);

    sdk = await fakeSdkExporter('# HELP temporal_request Count of client requests\n# TYPE temporal_request counter\ntemporal_request{operation="GetSystemInfo"} 7\n');
    const counted = {
      platformMetrics: (): Promise<PlatformMetricRows> => {
        reads++;
        return controlPlane.platformMetrics();
      },
    };
    server = await startMetricsServer({ port: 0, metrics: createMetricsRegistry({ source: counted }), sdkMetricsUrl: sdk.url });
  });

  // The scratch database holds every row the test inserted: dropping it is the clean-up.
  after(async () => {
    await server?.close();
    await sdk?.close();
    await controlPlane?.close();
    await db?.drop();
  });

  it('serves the SDK text first, then the platform metrics, reading the control plane once per scrape', async () => {
    reads = 0;
    const { text, contentType, samples } = await scrape(server.url);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);
    assert.ok(text.startsWith('# HELP temporal_request'), text.slice(0, 200));
    assert.ok(text.indexOf('temporal_request{') < text.indexOf('danau_lake_files_total'));
    assert.equal(valueOf(samples, 'temporal_request', { operation: 'GetSystemInfo' }), 7);
    assert.equal(reads, 1);
    assert.equal(valueOf(samples, 'danau_metrics_scrape_errors_total', { part: 'sdk' }), 0);
    assert.equal(valueOf(samples, 'danau_metrics_scrape_errors_total', { part: 'control_plane' }), 0);
  });

  it('reports what committed lake batches consumed and applied, per table', async () => {
    const { samples } = await scrape(server.url);
    // The planned batch's file is not counted until the batch commits.
    assert.equal(valueOf(samples, 'danau_lake_files_total', { table: key(orders) }), 3);
    assert.equal(valueOf(samples, 'danau_lake_bytes_total', { table: key(orders) }), 1230);
    assert.equal(valueOf(samples, 'danau_lake_rows_total', { table: key(orders), kind: 'upserted' }), 12);
    assert.equal(valueOf(samples, 'danau_lake_rows_total', { table: key(orders), kind: 'deleted' }), 3);
    assert.equal(valueOf(samples, 'danau_lake_rows_total', { table: key(orders), kind: 'stale' }), 1);
    assert.equal(valueOf(samples, 'danau_lake_rows_total', { table: key(orders), kind: 'quarantined' }), 4);
    assert.equal(valueOf(samples, 'danau_lake_files_total', { table: key(quiet) }), 0);
  });

  it('measures lag to the newest consumed change, beside the freshness SLA', async () => {
    const { samples } = await scrape(server.url);
    const lag = valueOf(samples, 'danau_table_lag_seconds', { table: key(orders) });
    const expected = (Date.now() - newestChange.getTime()) / 1000;
    assert.ok(lag !== undefined && Math.abs(lag - expected) < 5, `lag ${lag}, expected about ${expected}`);
    // Only the full load consumed: lag to the time the load was taken.
    const loadLag = valueOf(samples, 'danau_table_lag_seconds', { table: key(payments) });
    const loadExpected = (Date.now() - loadedAt.getTime()) / 1000;
    assert.ok(loadLag !== undefined && Math.abs(loadLag - loadExpected) < 5, `lag ${loadLag}, expected about ${loadExpected}`);
    // Nothing consumed, no lag to speak of.
    assert.equal(valueOf(samples, 'danau_table_lag_seconds', { table: key(quiet) }), undefined);
    assert.equal(valueOf(samples, 'danau_table_freshness_sla_seconds', { table: key(orders) }), 1800);
    assert.equal(valueOf(samples, 'danau_table_freshness_sla_seconds', { table: key(payments) }), 900);
  });

  it('shows a paused table, and failed events under their table, status and type', async () => {
    const { samples } = await scrape(server.url);
    assert.equal(valueOf(samples, 'danau_table_paused', { table: key(payments) }), 1);
    assert.equal(valueOf(samples, 'danau_table_paused', { table: key(orders) }), 0);
    assert.equal(valueOf(samples, 'danau_table_enabled', { table: key(payments) }), 1);
    assert.equal(valueOf(samples, 'danau_failed_events', { table: key(payments), status: 'dead_letter', error_type: 'PipelineStepFailed' }), 2);
    assert.equal(valueOf(samples, 'danau_failed_events', { table: key(orders), status: 'pending', error_type: 'StaleChange' }), 1);
    assert.equal(valueOf(samples, 'danau_failed_events', { table: key(orders), status: 'pending', error_type: 'UncastableValue' }), 1);
    assert.equal(valueOf(samples, 'danau_failed_events', { table: '', status: 'skipped' }), 1);
  });

  it('reports archive sizes by status and the bytes archival freed', async () => {
    const { samples } = await scrape(server.url);
    assert.equal(valueOf(samples, 'danau_archives', { table: key(orders), status: 'originals_deleted' }), 2);
    assert.equal(valueOf(samples, 'danau_archive_original_bytes', { table: key(orders), status: 'originals_deleted' }), 15_000);
    assert.equal(valueOf(samples, 'danau_archive_zipped_bytes', { table: key(orders), status: 'originals_deleted' }), 5_500);
    assert.equal(valueOf(samples, 'danau_archive_original_bytes', { table: key(orders), status: 'verified' }), 2_000);
    // Only archives whose originals are gone have saved anything.
    assert.equal(valueOf(samples, 'danau_archive_bytes_saved_total', { table: key(orders) }), 9_500);
  });

  it('follows the control plane from one scrape to the next', async () => {
    await controlPlane.pool.query("UPDATE failed_events SET status = 'resolved' WHERE table_id = $1 AND subject = 'p0'", [payments.tableId]);
    await controlPlane.pool.query('UPDATE tables SET paused_reason = NULL WHERE table_id = $1', [payments.tableId]);
    const { samples } = await scrape(server.url);
    assert.equal(valueOf(samples, 'danau_failed_events', { table: key(payments), status: 'dead_letter' }), 1);
    assert.equal(valueOf(samples, 'danau_failed_events', { table: key(payments), status: 'resolved' }), 1);
    assert.equal(valueOf(samples, 'danau_table_paused', { table: key(payments) }), 0);
  });

  it('still serves what it can when a part cannot be read, and counts the error', async () => {
    const errors: string[] = [];
    const broken = await startMetricsServer({
      port: 0,
      metrics: createMetricsRegistry({ source: { platformMetrics: () => Promise.reject(new Error('control plane down')) }, onError: (err) => errors.push((err as Error).message) }),
      // Nothing listens on port 1.
      sdkMetricsUrl: 'http://127.0.0.1:1/metrics',
      onError: (part, err) => errors.push(`${part}: ${(err as Error).message}`),
    });
    try {
      const first = await scrape(broken.url);
      assert.equal(valueOf(first.samples, 'danau_metrics_scrape_errors_total', { part: 'control_plane' }), 1);
      assert.equal(valueOf(first.samples, 'danau_metrics_scrape_errors_total', { part: 'sdk' }), 1);
      assert.equal(first.samples.filter((s) => s.name.startsWith('danau_') && !s.name.startsWith('danau_metrics_')).length, 0);
      const second = await scrape(broken.url);
      assert.equal(valueOf(second.samples, 'danau_metrics_scrape_errors_total', { part: 'control_plane' }), 2);
      assert.ok(errors.includes('control plane down'));
      assert.ok(errors.some((e) => /^sdk: Temporal SDK metrics at http:\/\/127\.0\.0\.1:1\/metrics: /.test(e)), errors.join('\n'));
      assert.equal((await fetch(broken.url.replace('/metrics', '/'))).status, 404);
    } finally {
      await broken.close();
    }
  });
});
