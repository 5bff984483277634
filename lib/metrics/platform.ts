// The platform's own Prometheus metrics. They are collected at scrape time from the control plane
// (one read-only query per scrape, ControlPlane.platformMetrics), not counted in process: the
// figures stay right across worker restarts and several workers, and no activity keeps counters.
// Labels name a table as `source.schema.table`.
import { Counter, Gauge, Registry } from 'prom-client';
import type { PlatformMetricRows } from '../control-plane/store';

export type ScrapePart = 'sdk' | 'control_plane';

/** Where the platform figures come from: the control plane (ControlPlane satisfies it). */
export interface PlatformMetricsSource {
  platformMetrics(): Promise<PlatformMetricRows>;
}

/** The registry a worker's metrics endpoint serves, beside the Temporal SDK's own metrics. */
export interface MetricsRegistry {
  registry: Registry;
  /** Counts a part of a scrape that could not be read (danau_metrics_scrape_errors_total{part}). */
  countScrapeError(part: ScrapePart): void;
}

export interface PlatformMetricsOptions {
  /** Collect the platform metrics from here; without it the registry holds only the error counter. */
  source?: PlatformMetricsSource;
  /** Told when the control plane could not be read; that scrape then has no platform figures. */
  onError?: (err: unknown) => void;
}

const byTable = ['table'] as const;

export function createMetricsRegistry({ source, onError }: PlatformMetricsOptions = {}): MetricsRegistry {
  const registry = new Registry();

  // The registry collects every metric of a scrape at once: they share one control-plane read.
  let inflight: Promise<PlatformMetricRows | null> | null = null;
  const read = (): Promise<PlatformMetricRows | null> => {
    if (!source) return Promise.resolve(null);
    inflight ??= source
      .platformMetrics()
      .catch((err: unknown) => {
        scrapeErrors.inc({ part: 'control_plane' });
        onError?.(err);
        return null;
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  };

  const scrapeErrors = new Counter({
    name: 'danau_metrics_scrape_errors_total',
    help: 'Scrapes of this endpoint that could not read a part: sdk (the Temporal SDK exporter) or control_plane (the platform figures).',
    labelNames: ['part'],
    registers: [registry],
    // Waits for this scrape's control-plane read, so an error shows in the scrape it happened in.
    async collect() {
      await read();
    },
  });
  scrapeErrors.inc({ part: 'sdk' }, 0);
  if (!source) return { registry, countScrapeError: (part) => scrapeErrors.inc({ part }) };
  scrapeErrors.inc({ part: 'control_plane' }, 0);

  // Each metric's series are exactly what this scrape's read gives: none when the read failed.
  type Fill<M> = (rows: PlatformMetricRows, metric: M) => void;
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: Fill<Counter<L>>) =>
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const rows = await read();
        this.reset();
        if (rows) fill(rows, this);
      },
    });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: Fill<Gauge<L>>) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const rows = await read();
        this.reset();
        if (rows) fill(rows, this);
      },
    });

  counter('danau_lake_files_total', 'Raw files consumed by committed lake batches.', byTable, (rows, m) => {
    for (const t of rows.tables) m.inc({ table: t.table }, t.lakeFiles);
  });
  counter('danau_lake_bytes_total', 'Bytes of the raw files consumed by committed lake batches.', byTable, (rows, m) => {
    for (const t of rows.tables) m.inc({ table: t.table }, t.lakeBytes);
  });
  counter('danau_lake_rows_total', 'Rows applied by committed lake batches, by kind: upserted, deleted, stale (set aside by the ordering guard), quarantined (a value did not cast).', ['table', 'kind'], (rows, m) => {
    for (const t of rows.tables) for (const [kind, n] of Object.entries(t.lakeRows)) m.inc({ table: t.table, kind }, n);
  });
  gauge(
    'danau_table_lag_seconds',
    'Seconds since the commit time of the newest raw change a committed lake batch consumed (the first change of the newest CDC file; the load time when only the full load was consumed). Grows while the source is quiet, like the freshness check.',
    byTable,
    (rows, m) => {
      for (const t of rows.tables) if (t.lagSeconds !== null) m.set({ table: t.table }, t.lagSeconds);
    },
  );
  gauge('danau_table_freshness_sla_seconds', 'The table\'s freshness SLA: raw data older than this is late.', byTable, (rows, m) => {
    for (const t of rows.tables) m.set({ table: t.table }, t.freshnessSlaMinutes * 60);
  });
  gauge('danau_table_paused', '1 when the table\'s pipeline is paused (e.g. by schema drift), else 0.', byTable, (rows, m) => {
    for (const t of rows.tables) m.set({ table: t.table }, t.paused ? 1 : 0);
  });
  gauge('danau_table_enabled', '1 when the table is enabled, else 0.', byTable, (rows, m) => {
    for (const t of rows.tables) m.set({ table: t.table }, t.enabled ? 1 : 0);
  });
  gauge('danau_failed_events', 'Failed events by table (empty: not about one table), status and error type.', ['table', 'status', 'error_type'], (rows, m) => {
    for (const f of rows.failedEvents) m.set({ table: f.table ?? '', status: f.status, error_type: f.errorType }, f.events);
  });
  gauge('danau_archives', 'Raw-zone archives (zips) by table and status.', ['table', 'status'], (rows, m) => {
    for (const a of rows.archives) m.set({ table: a.table, status: a.status }, a.archives);
  });
  gauge('danau_archive_original_bytes', 'Bytes of the raw files the archives hold, by table and archive status.', ['table', 'status'], (rows, m) => {
    for (const a of rows.archives) m.set({ table: a.table, status: a.status }, a.originalBytes);
  });
  gauge('danau_archive_zipped_bytes', 'Bytes of the archive zips, by table and archive status (0 until uploaded).', ['table', 'status'], (rows, m) => {
    for (const a of rows.archives) m.set({ table: a.table, status: a.status }, a.zippedBytes);
  });
  counter('danau_archive_bytes_saved_total', 'Raw-zone bytes freed by archival: originals deleted minus the size of their zips (archives in status originals_deleted).', byTable, (rows, m) => {
    const saved = new Map<string, number>();
    for (const a of rows.archives) if (a.status === 'originals_deleted') saved.set(a.table, (saved.get(a.table) ?? 0) + a.originalBytes - a.zippedBytes);
    // A counter cannot go below zero; tiny incompressible files can make a zip larger than its originals.
    for (const [table, n] of saved) m.inc({ table }, Math.max(0, n));
  });

  return { registry, countScrapeError: (part) => scrapeErrors.inc({ part }) };
}
