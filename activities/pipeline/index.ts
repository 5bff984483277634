// Table-pipeline and reprocessing-loop activities: quick control-plane reads and writes on the
// control queue. The heavy steps are the existing lake and warehouse activities.
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/common/errors';
import { parseTableKey } from '../../lib/common/temporal';
import type { ControlPlane } from '../../lib/control-plane/store';
import { FailedEventStore } from '../../lib/failed-events/store';
import type { ReprocessActivities } from '../../workflows/reprocessFailedEvents';
import type { TablePipelineActivities } from '../../workflows/runTablePipeline';

export interface PipelineDeps {
  controlPlane: ControlPlane;
}

export type PipelineActivities = Omit<TablePipelineActivities, 'sendAlert'> & Omit<ReprocessActivities, 'sendAlert'>;

export function createPipelineActivities({ controlPlane }: PipelineDeps): PipelineActivities {
  const failed = new FailedEventStore(controlPlane.pool);

  async function onboarded(key: string) {
    const parts = parseTableKey(key);
    const table = parts ? await controlPlane.getTable(parts.source, parts.schema, parts.table) : null;
    if (!table) {
      throw ApplicationFailure.create({
        type: ErrorType.TableNotOnboarded,
        message: parts ? `table ${key} is not onboarded (danau tables add)` : `table ${key}: expected source.schema.table`,
        nonRetryable: true,
      });
    }
    return table;
  }

  return {
    async planTablePipeline({ table: key }) {
      const table = await onboarded(key);
      const models = (await controlPlane.listModels()).filter((m) => m.enabled && m.source === key).map((m) => m.name);
      return { table: key, enabled: table.enabled, pausedReason: table.pausedReason, freshnessSlaMinutes: table.freshnessSlaMinutes, models };
    },

    async modelsBehindLake({ table: key, models }) {
      const table = await onboarded(key);
      return controlPlane.modelsBehindLake(table.tableId, models);
    },

    async recordPipelineFailure({ table, step, errorType, reason, workflowId, runId }) {
      const { event, created } = await failed.recordPipelineFailure({ table, errorType, reason, dataRef: { step, workflowId, runId }, workflowId, runId });
      return { eventId: event.eventId, created };
    },

    async resolvePipelineFailures({ table, workflowId }) {
      return failed.resolvePipelineFailures(table, workflowId);
    },

    async claimFailedEvents({ limit, backoffSeconds, eventIds }) {
      const events = await failed.claim({ limit, backoffSeconds, eventIds });
      return events.map((e) => ({ eventId: e.eventId, pipeline: e.pipeline, table: e.table, errorType: e.errorType, reason: e.reason, dataRef: e.dataRef, attempts: e.attempts }));
    },

    async skipFailedEvents({ eventIds, by, note }) {
      return (await failed.skip(eventIds, by, note)).map((e) => e.eventId);
    },

    async settleFailedEvent({ eventId, kind, detail, maxAttempts, by }) {
      const event = await failed.settle(eventId, { kind, detail, maxAttempts, by });
      return { status: event.status, attempts: event.attempts };
    },
  };
}
