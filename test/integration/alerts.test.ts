// Alerts: the webhook alerter against a real local HTTP receiver, and the sendAlert activity
// recording each alert in a real control plane's audit log (a scratch database, dropped after).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { alertSubject, createAlertActivities } from '../../activities/alerts';
import { ErrorType } from '../../lib/common/errors';
import { AlertDeliveryError, WebhookAlerter, type Alert } from '../../lib/alerts/webhook';
import type { ControlPlane } from '../../lib/control-plane/store';
import { createScratchControlPlane, type ScratchDatabase } from '../support/stack';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: records each request and answers with `reply` (or never, for `hang`). */
async function startReceiver() {
  const received: Received[] = [];
  const state = { status: 200, answer: 'ok', hang: false };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (!state.hang) res.writeHead(state.status, { 'content-type': 'text/plain' }).end(state.answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    reply(status: number, answer = '', hang = false) {
      Object.assign(state, { status, answer, hang });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function activityEnvironment(lines: LogEntry[] = []): MockActivityEnvironment {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN', (entry) => lines.push(entry)) });
}

async function rejectsWith(p: Promise<unknown>, type: string, pattern: RegExp): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, type, err.message);
    assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected ${type}`);
}

const alert: Alert = {
  kind: 'dead_letter',
  table: 'clinic.clinic.patients',
  summary: 'clinic.clinic.patients: a failed event went to the dead letters after 5 attempts',
  details: { eventId: 42, errorType: 'UncastableValue', attempts: 5 },
  workflowId: 'reprocess-failed-events/test',
  runId: '0195-test-run',
  at: '2026-11-23T08:00:00.000Z',
};

describe('alerts', () => {
  let db: ScratchDatabase;
  let store: ControlPlane;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    ({ db, controlPlane: store } = await createScratchControlPlane());
    receiver = await startReceiver();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.reply(200, 'ok');
  });
  // Every audit row the tests wrote is in the scratch database: dropping it is the clean-up.
  after(async () => {
    await receiver?.close();
    await store?.close();
    await db?.drop();
  });

  const alertRows = async (subject: string) =>
    (await store.pool.query<{ actor: string; action: string; details: Record<string, unknown> }>("SELECT actor, action, details FROM audit_log WHERE subject = $1 AND action = 'alert' ORDER BY audit_id", [subject])).rows;

  it('POSTs the alert as JSON to the webhook and records it under its table', async () => {
    const url = `${receiver.base}/hooks/danau`;
    const acts = createAlertActivities({ alerter: new WebhookAlerter({ url }), store });
    assert.deepEqual(await activityEnvironment().run(acts.sendAlert, alert), { delivered: true });

    assert.equal(receiver.received.length, 1);
    const [req] = receiver.received;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.url, '/hooks/danau');
    assert.match(String(req!.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(req!.body), alert);

    assert.equal(alertSubject(alert), 'table:clinic.clinic.patients');
    const rows = await alertRows('table:clinic.clinic.patients');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.actor, 'alerts');
    assert.deepEqual(rows[0]!.details, { ...alert, channel: 'webhook', delivered: true });
  });

  it('files an alert about no one table under its kind', async () => {
    const acts = createAlertActivities({ alerter: new WebhookAlerter({ url: `${receiver.base}/hooks/danau` }), store });
    const platformAlert: Alert = { kind: 'pipeline_failed', summary: 'archiveTables failed', at: new Date().toISOString() };
    assert.deepEqual(await activityEnvironment().run(acts.sendAlert, platformAlert), { delivered: true });
    assert.deepEqual(JSON.parse(receiver.received[0]!.body), platformAlert);
    assert.equal((await alertRows('alert:pipeline_failed')).length, 1);
  });

  it('gives a clear error naming the status and the URL when the webhook answers 500, records it, and lets Temporal retry', async () => {
    receiver.reply(500, 'receiver is down');
    const url = `${receiver.base}/hooks/broken?token=s3cret`;
    const alerter = new WebhookAlerter({ url });

    await assert.rejects(alerter.send(alert), (err: unknown) => {
      assert.ok(err instanceof AlertDeliveryError);
      assert.equal(err.status, 500);
      assert.equal(err.retryable, true);
      assert.equal(err.message, `alert webhook ${receiver.base}/hooks/broken answered 500 Internal Server Error: receiver is down`);
      return true;
    });

    const subject = 'table:clinic.clinic.appointments';
    const acts = createAlertActivities({ alerter, store });
    const failure = await rejectsWith(activityEnvironment().run(acts.sendAlert, { ...alert, table: 'clinic.clinic.appointments' }), ErrorType.AlertDeliveryFailed, /answered 500 Internal Server Error/);
    assert.equal(failure.nonRetryable, false);
    assert.ok(failure.message.includes(`${receiver.base}/hooks/broken`), failure.message);
    // The token in the query string stays out of messages that end up in workflow histories.
    assert.doesNotMatch(failure.message, /s3cret/);
    const rows = await alertRows(subject);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.details.delivered, false);
    assert.match(String(rows[0]!.details.error), /answered 500/);
  });

  it('does not retry what the webhook refuses as such (4xx)', async () => {
    receiver.reply(404, 'no such hook');
    const acts = createAlertActivities({ alerter: new WebhookAlerter({ url: `${receiver.base}/hooks/gone` }), store });
    const failure = await rejectsWith(activityEnvironment().run(acts.sendAlert, alert), ErrorType.AlertDeliveryFailed, /answered 404 Not Found: no such hook/);
    assert.equal(failure.nonRetryable, true);
  });

  it('gives up on a webhook that does not answer within the timeout', async () => {
    receiver.reply(200, '', true);
    const alerter = new WebhookAlerter({ url: `${receiver.base}/hooks/slow`, timeoutMs: 300 });
    await assert.rejects(alerter.send(alert), (err: unknown) => err instanceof AlertDeliveryError && err.retryable && /could not be reached: no answer within 300 ms/.test(err.message));
  });

  it('logs the alert as a warning when no webhook is configured, and still records it', async () => {
    const lines: LogEntry[] = [];
    const acts = createAlertActivities({ alerter: new WebhookAlerter(), store });
    const freshness: Alert = { kind: 'freshness_deadline', table: 'labs.public.lab_orders', summary: 'labs.public.lab_orders: raw data 42 minutes old, SLA 15', at: new Date().toISOString() };
    assert.deepEqual(await activityEnvironment(lines).run(acts.sendAlert, freshness), { delivered: false });
    const warn = lines.find((l) => l.level === 'WARN' && l.message.includes('raw data 42 minutes old'));
    assert.ok(warn, lines.map((l) => `${l.level} ${l.message}`).join('\n'));
    assert.deepEqual(warn.meta?.alert, freshness);
    assert.equal(receiver.received.length, 0);
    const rows = await alertRows('table:labs.public.lab_orders');
    assert.deepEqual(rows.map((r) => [r.details.channel, r.details.delivered]), [['log', false]]);
  });

  it('refuses a malformed alert without retrying', async () => {
    const acts = createAlertActivities({ alerter: new WebhookAlerter({ url: `${receiver.base}/hooks/danau` }), store });
    const failure = await rejectsWith(activityEnvironment().run(acts.sendAlert, { kind: 'dead_letter', summary: '', at: 'yesterday' }), ErrorType.InvalidAlert, /summary: is required; at: must be an ISO 8601 time/);
    assert.equal(failure.nonRetryable, true);
    assert.equal(receiver.received.length, 0);
  });
});
