// The worker's one metrics endpoint, http://127.0.0.1:<DANAU_METRICS_PORT>/metrics: the Temporal
// SDK's Prometheus text (its exporter listens on an internal loopback port, DANAU_SDK_METRICS_PORT),
// then the platform registry's. One scrape target per worker, whichever part it holds. A part that
// cannot be read is left out and counted in danau_metrics_scrape_errors_total; the rest is served.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { MetricsRegistry, ScrapePart } from './platform';

export interface MetricsServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Loopback by default: the endpoint says what the platform holds, so it is not published. */
  host?: string;
  metrics: MetricsRegistry;
  /** The SDK exporter's address, e.g. http://127.0.0.1:9465/metrics; unset: platform metrics only. */
  sdkMetricsUrl?: string;
  /** How long a scrape waits for the SDK exporter (default 5 s). */
  sdkTimeoutMs?: number;
  /** Told when a part could not be read (the control plane reports through the registry's onError). */
  onError?: (part: ScrapePart, err: unknown) => void;
}

export interface MetricsServer {
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

async function sdkText(url: string, timeoutMs: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, a timeout) is its cause.
    const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new Error(`Temporal SDK metrics at ${url}: ${reason}`, { cause: err });
  }
  if (!res.ok) throw new Error(`Temporal SDK metrics at ${url} answered ${res.status} ${res.statusText}`);
  const text = await res.text();
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}

export async function startMetricsServer({ port, host = '127.0.0.1', metrics, sdkMetricsUrl, sdkTimeoutMs = 5_000, onError }: MetricsServerOptions): Promise<MetricsServer> {
  async function scrape(): Promise<string> {
    let sdk = '';
    if (sdkMetricsUrl) {
      try {
        sdk = await sdkText(sdkMetricsUrl, sdkTimeoutMs);
      } catch (err) {
        metrics.countScrapeError('sdk');
        onError?.('sdk', err);
      }
    }
    // After the SDK part, so an SDK error is counted in the scrape it happened in.
    return sdk + (await metrics.registry.metrics());
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET\n');
      return;
    }
    scrape().then(
      (body) => {
        res.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    const refuse = (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`metrics endpoint: ${host}:${port} is already in use (DANAU_METRICS_PORT)`, { cause: err }) : err);
    server.once('error', refuse);
    server.listen(port, host, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // A scraper's keep-alive connection would hold close() open until it times out.
        server.closeAllConnections();
      }),
  };
}
