// Temporal Schedules made to match the control plane: `danau schedules sync` creates the missing,
// updates the changed, pauses or resumes with the note a person left, and deletes the ones whose
// table or pipeline is gone. Only schedules under this deployment's prefix are touched.
import { createHash } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../common/errors';
import { ScheduleId, SearchAttribute, WorkflowId, type TaskQueues } from '../common/temporal';
import { parseWorkflowInput } from '../common/workflow-inputs';
import type { PlatformScheduleRow, TableScheduleRow } from './store';

/**
 * A table's pipeline applies every new raw file whenever it runs, so a missed run loses nothing:
 * after an outage only the runs of the last few minutes are caught up, not one per missed tick.
 */
export const TABLE_CATCHUP_WINDOW = '10 minutes';
export const PLATFORM_CATCHUP_WINDOW = '1 hour';
/**
 * Tables on the same cron would all start in the same second and queue behind one another (see
 * npm run bench:pipeline); a random delay of up to this spreads each tick's runs.
 */
export const TABLE_JITTER = '30 seconds';

export interface DesiredSchedule {
  scheduleId: string;
  /** The table it runs, or the platform pipeline's name. */
  subject: string;
  cron: string;
  workflowType: 'runTablePipeline' | 'archiveTables' | 'reprocessFailedEvents' | 'checkModels';
  args: [Record<string, unknown>];
  workflowId: string;
  pausedNote: string | null;
  catchupWindow: string;
  jitter?: string;
  table?: string;
}

const platformWorkflow = {
  'archive-tables': { workflowType: 'archiveTables', workflowId: WorkflowId.archiveTables('scheduled') },
  'reprocess-failed-events': { workflowType: 'reprocessFailedEvents', workflowId: WorkflowId.reprocessFailedEvents('scheduled') },
  'check-models': { workflowType: 'checkModels', workflowId: WorkflowId.checkModels('scheduled') },
} as const;

/**
 * A schedule's workflow input, checked against the workflow's own schema: a bad input is refused when
 * the schedule is set or synced, not by every run it would start.
 */
export function scheduleArgs(subject: string, workflowType: DesiredSchedule['workflowType'], input: unknown): [Record<string, unknown>] {
  try {
    return [parseWorkflowInput(workflowType, input)];
  } catch (err) {
    if (!(err instanceof ApplicationFailure)) throw err;
    throw ApplicationFailure.create({ type: ErrorType.InvalidWorkflowInput, message: `schedule ${subject}: ${err.message}`, nonRetryable: true });
  }
}

/** The input of a platform schedule, checked (`danau schedules set --platform … --input …`); null for a name that is none. */
export function platformScheduleArgs(name: string, input: unknown): [Record<string, unknown>] | null {
  if (!Object.hasOwn(platformWorkflow, name)) return null;
  return scheduleArgs(name, platformWorkflow[name as PlatformScheduleRow['name']].workflowType, input);
}

export function desiredSchedules(queues: TaskQueues, tables: TableScheduleRow[], platform: PlatformScheduleRow[]): DesiredSchedule[] {
  return [
    ...tables.map((t) => ({
      scheduleId: ScheduleId.tablePipeline(queues, t.table),
      subject: t.table,
      cron: t.cron,
      workflowType: 'runTablePipeline' as const,
      args: scheduleArgs(t.table, 'runTablePipeline', { table: t.table }),
      workflowId: WorkflowId.tablePipeline(t.table),
      pausedNote: t.pausedNote,
      catchupWindow: TABLE_CATCHUP_WINDOW,
      jitter: TABLE_JITTER,
      table: t.table,
    })),
    ...platform.map((p) => ({
      scheduleId: ScheduleId.platform(queues, p.name),
      subject: p.name,
      cron: p.cron,
      ...platformWorkflow[p.name],
      args: scheduleArgs(p.name, platformWorkflow[p.name].workflowType, p.input),
      pausedNote: p.pausedNote,
      catchupWindow: PLATFORM_CATCHUP_WINDOW,
    })),
  ];
}

/** What decides whether a schedule must be updated; kept in the started runs' memo, which the schedule describes back. */
function fingerprint(d: DesiredSchedule, taskQueue: string): string {
  return createHash('sha256').update(JSON.stringify([d.cron, d.workflowType, d.args, d.workflowId, d.catchupWindow, d.jitter ?? null, taskQueue])).digest('hex').slice(0, 16);
}

function options(d: DesiredSchedule, queues: TaskQueues): ScheduleOptions {
  return {
    scheduleId: d.scheduleId,
    spec: { cronExpressions: [d.cron], ...(d.jitter ? { jitter: d.jitter } : {}) },
    action: {
      type: 'startWorkflow',
      workflowType: d.workflowType,
      args: d.args,
      taskQueue: queues.control,
      workflowId: d.workflowId,
      memo: { danauSchedule: fingerprint(d, queues.control) },
      typedSearchAttributes: d.table
        ? [
            { key: SearchAttribute.table, value: d.table },
            { key: SearchAttribute.layer, value: 'pipeline' },
          ]
        : [{ key: SearchAttribute.layer, value: 'platform' }],
    },
    // Never two runs of one table at once: a tick that finds the last run still going is skipped
    // and counted (danau schedules list shows the count).
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: d.catchupWindow, pauseOnFailure: false },
    state: { paused: d.pausedNote !== null, note: d.pausedNote ?? 'running (danau schedules sync)' },
  };
}

export interface SyncChange {
  scheduleId: string;
  subject: string;
  change: 'created' | 'updated' | 'paused' | 'resumed' | 'unchanged' | 'deleted';
}

/** Lists the schedule ids under this deployment's prefix. */
export async function managedScheduleIds(client: Client, queues: TaskQueues): Promise<string[]> {
  const prefix = ScheduleId.prefix(queues);
  const ids: string[] = [];
  for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(prefix)) ids.push(s.scheduleId);
  return ids.sort();
}

export async function syncSchedules(client: Client, queues: TaskQueues, desired: DesiredSchedule[]): Promise<SyncChange[]> {
  const changes: SyncChange[] = [];
  // Listing is eventually consistent (a schedule created a moment ago may not be listed yet), so
  // each wanted schedule is described by id; the list only finds the ones to delete.
  const listed = new Set(await managedScheduleIds(client, queues));
  for (const d of desired) {
    listed.delete(d.scheduleId);
    const want = options(d, queues);
    const handle = client.schedule.getHandle(d.scheduleId);
    const now = await handle.describe().catch((err: unknown) => {
      if (err instanceof ScheduleNotFoundError) return null;
      throw err;
    });
    if (!now) {
      await client.schedule.create(want);
      changes.push({ scheduleId: d.scheduleId, subject: d.subject, change: 'created' });
      continue;
    }
    const memo = now.action.type === 'startWorkflow' ? now.action.memo : undefined;
    const sameAction = memo?.danauSchedule === fingerprint(d, queues.control);
    const samePause = now.state.paused === (d.pausedNote !== null) && (d.pausedNote === null || now.state.note === d.pausedNote);
    if (sameAction && samePause) {
      changes.push({ scheduleId: d.scheduleId, subject: d.subject, change: 'unchanged' });
      continue;
    }
    const { scheduleId: _id, ...update } = want;
    await handle.update(() => ({ ...update, state: update.state ?? {} }));
    changes.push({ scheduleId: d.scheduleId, subject: d.subject, change: !sameAction ? 'updated' : d.pausedNote !== null ? 'paused' : 'resumed' });
  }
  for (const gone of listed) {
    try {
      await client.schedule.getHandle(gone).delete();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    changes.push({ scheduleId: gone, subject: gone.slice(ScheduleId.prefix(queues).length), change: 'deleted' });
  }
  return changes;
}

export interface ScheduleReport {
  scheduleId: string;
  paused: boolean;
  note: string | null;
  taken: number;
  /** Ticks skipped because the previous run was still going (the SKIP overlap policy). */
  skippedOverlap: number;
  missedCatchupWindow: number;
  running: string[];
  recent: { scheduledAt: string; workflowId: string }[];
  next: string | null;
}

/** Reports on the schedules named (by default every one listed under this deployment's prefix). */
export async function describeSchedules(client: Client, queues: TaskQueues, ids?: string[]): Promise<ScheduleReport[]> {
  const reports: ScheduleReport[] = [];
  for (const id of ids ?? (await managedScheduleIds(client, queues))) {
    const d = await client.schedule.getHandle(id).describe();
    reports.push({
      scheduleId: id,
      paused: d.state.paused,
      note: d.state.note ?? null,
      taken: d.info.numActionsTaken,
      skippedOverlap: d.info.numActionsSkippedOverlap,
      missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
      running: d.info.runningActions.map((a) => a.workflow.workflowId),
      recent: d.info.recentActions.slice(-3).map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
      next: d.info.nextActionTimes[0]?.toISOString() ?? null,
    });
  }
  return reports;
}
