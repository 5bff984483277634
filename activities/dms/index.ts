// DMS activities: the calls syncDmsTask makes, each a thin wrap of DmsTaskManager that turns its
// errors into the catalog's failure types (a busy task is retried; a conflict needs a person).
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/common/errors';
import { DmsSettingsError, DmsTaskStateError, type DmsTaskManager } from '../../lib/capture/dms-task';
import type { ControlPlane } from '../../lib/control-plane/store';
import type { DmsActivities } from '../../workflows/syncDmsTask';

export interface DmsDeps {
  controlPlane: ControlPlane;
  dms: DmsTaskManager;
  /** The raw bucket, which every source's target endpoint must write to. */
  rawBucket: string;
}

function conflict(message: string): never {
  throw ApplicationFailure.create({ type: ErrorType.DmsTaskConflict, message, nonRetryable: true });
}

function translate(err: unknown): never {
  if (err instanceof DmsSettingsError) conflict(err.message);
  if (err instanceof DmsTaskStateError && err.reason !== 'busy') conflict(err.message);
  throw err; // busy, throttled, unreachable: the activity retries
}

async function translated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    translate(err);
  }
}

export function createDmsActivities({ controlPlane, dms, rawBucket }: DmsDeps): DmsActivities {
  return {
    async ensureDmsTask(input) {
      const source = await controlPlane.getSource(input.source);
      if (!source) throw ApplicationFailure.create({ type: ErrorType.UnknownSource, message: `source ${input.source} is not registered (danau sources)`, nonRetryable: true });
      const tables = (await controlPlane.listTables()).filter((t) => t.sourceName === source.sourceName && t.enabled);
      if (tables.length === 0) conflict(`source ${source.sourceName}: no enabled table is onboarded, so a DMS task would replicate nothing (danau tables add)`);
      try {
        await dms.checkTargetEndpoint(source.sourceName, input.targetEndpointArn, rawBucket);
        return await dms.ensureTask({ ...input, source, tables, migrationType: input.migrationType ?? 'full-load-and-cdc' });
      } catch (err) {
        // The workflow's runbook handles this one: stop, ensure again, resume.
        if (err instanceof DmsTaskStateError && err.reason === 'running-and-changed' && err.taskArn) {
          return { taskId: err.taskId, taskArn: err.taskArn, outcome: 'stop-needed', status: err.status ?? 'running' };
        }
        translate(err);
      }
    },
    startDmsTask: ({ taskArn, startType }) => translated(() => dms.start(taskArn, startType)),
    stopDmsTask: ({ taskArn }) => translated(() => dms.stop(taskArn)),
    describeDmsTask: ({ taskArn }) => translated(() => dms.describe(taskArn)),
  };
}
