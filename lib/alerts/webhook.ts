// Alerts to a webhook: a freshness deadline passed, an event went to the dead letters, a pipeline
// failed. Each alert is POSTed as one JSON object to DANAU_ALERT_WEBHOOK_URL (Slack-, PagerDuty- or
// Alertmanager-style receivers adapt it); with no URL configured the alert is logged as a warning
// instead, so a local stack still shows it. Delivery is at least once: a retried send can repeat.
import { createLogger } from '../logging';

export type Alert = {
  kind: 'freshness_deadline' | 'dead_letter' | 'pipeline_failed' | (string & {});
  /** source.schema.table, when the alert is about one table. */
  table?: string;
  /** One line a person reads first. */
  summary: string;
  details?: Record<string, unknown>;
  workflowId?: string;
  runId?: string;
  /** ISO 8601 time the condition was seen. */
  at: string;
};

/** The logger shape of @temporalio/activity's `log`, so an activity can pass its own. */
export interface AlertLog {
  warn(message: string, meta?: Record<string, unknown>): void;
}

export class AlertDeliveryError extends Error {
  constructor(
    message: string,
    /** The URL without credentials or query string. */
    readonly url: string,
    /** The HTTP status, when the webhook answered. */
    readonly status: number | undefined,
    /** False when the same request would be refused again (a 4xx other than 408 and 429). */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AlertDeliveryError';
  }
}

/** What is wrong with an alert, or null: a kind, a summary and a parseable time are required. */
export function alertProblem(alert: Alert): string | null {
  const problems: string[] = [];
  if (typeof alert.kind !== 'string' || !alert.kind.trim()) problems.push('kind: is required');
  if (typeof alert.summary !== 'string' || !alert.summary.trim()) problems.push('summary: is required');
  if (typeof alert.at !== 'string' || Number.isNaN(Date.parse(alert.at))) problems.push('at: must be an ISO 8601 time');
  if (alert.table !== undefined && (typeof alert.table !== 'string' || alert.table.split('.').length !== 3)) problems.push('table: must be source.schema.table');
  return problems.length ? `invalid alert: ${problems.join('; ')}` : null;
}

/** The URL as errors and logs show it: webhook URLs often carry a token in user info or query. */
function shown(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

export interface WebhookAlerterOptions {
  /** DANAU_ALERT_WEBHOOK_URL (config.alerts.webhookUrl); unset: alerts are logged. */
  url?: string;
  /** How long a POST may take, answer included (default 10 s). */
  timeoutMs?: number;
  /** Where unconfigured alerts go when send() is given no log (default: a pino logger). */
  log?: AlertLog;
}

export class WebhookAlerter {
  readonly url: string | undefined;
  private readonly timeoutMs: number;
  private fallbackLog: AlertLog | undefined;

  constructor({ url, timeoutMs = 10_000, log }: WebhookAlerterOptions = {}) {
    if (url !== undefined && !/^https?:\/\//i.test(url)) throw new Error(`alert webhook: ${url} is not an http(s) URL`);
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.fallbackLog = log;
  }

  /** POSTs the alert as JSON; without a URL, logs it as a warning. Throws AlertDeliveryError on anything but a 2xx. */
  async send(alert: Alert, log?: AlertLog): Promise<{ delivered: boolean }> {
    const problem = alertProblem(alert);
    if (problem) throw new Error(problem);
    if (!this.url) {
      (log ?? this.defaultLog()).warn(`alert: ${alert.summary}`, { alert });
      return { delivered: false };
    }
    const where = shown(this.url);
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'danau-alerts' },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new AlertDeliveryError(`alert webhook ${where} could not be reached: ${reason}`, where, undefined, true, { cause: err });
    }
    if (res.ok) {
      await res.body?.cancel();
      return { delivered: true };
    }
    const answer = (await res.text().catch(() => '')).trim().slice(0, 200);
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new AlertDeliveryError(`alert webhook ${where} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${answer ? `: ${answer}` : ''}`, where, res.status, retryable);
  }

  private defaultLog(): AlertLog {
    if (!this.fallbackLog) {
      const logger = createLogger('warn', 'danau-alerts');
      this.fallbackLog = { warn: (message, meta) => logger.warn(meta ?? {}, message) };
    }
    return this.fallbackLog;
  }
}
