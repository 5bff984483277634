// Alert activities: send an alert to the configured webhook (or log it when none is set) and record
// it in the control plane's audit log, under the table it is about (`table:<source.schema.table>`,
// beside that table's other audit rows) or `alert:<kind>`. A refused delivery is recorded too, then
// fails the activity: a 5xx or no answer is retried, a 4xx is not (the same request would be refused).
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/common/errors';
import { AlertDeliveryError, alertProblem, type Alert, type WebhookAlerter } from '../../lib/alerts/webhook';
import type { ControlPlane } from '../../lib/control-plane/store';

export interface AlertDeps {
  alerter: WebhookAlerter;
  store: ControlPlane;
}

export interface AlertActivities {
  sendAlert: (alert: Alert) => Promise<{ delivered: boolean }>;
}

/** Where an alert is filed in the audit log. */
export function alertSubject(alert: Pick<Alert, 'kind' | 'table'>): string {
  return alert.table ? `table:${alert.table}` : `alert:${alert.kind}`;
}

export function createAlertActivities({ alerter, store }: AlertDeps): AlertActivities {
  return {
    async sendAlert(alert) {
      const problem = alertProblem(alert);
      if (problem) throw ApplicationFailure.create({ type: ErrorType.InvalidAlert, message: problem, nonRetryable: true });
      const subject = alertSubject(alert);
      const channel = alerter.url ? 'webhook' : 'log';
      let outcome: { delivered: boolean };
      try {
        outcome = await alerter.send(alert, log);
      } catch (err) {
        if (!(err instanceof AlertDeliveryError)) throw err;
        await store.recordAlert(subject, { ...alert, channel, delivered: false, error: err.message });
        throw ApplicationFailure.create({ type: ErrorType.AlertDeliveryFailed, message: err.message, nonRetryable: !err.retryable, cause: err });
      }
      await store.recordAlert(subject, { ...alert, channel, delivered: outcome.delivered });
      return outcome;
    },
  };
}
