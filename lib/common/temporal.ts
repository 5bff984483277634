// Names shared by workflows, workers and clients. Pure and deterministic: lib/common/ is the only
// part of lib/ that workflow code may import as values.
import { defineSearchAttributeKey } from '@temporalio/common';

/** Quick control-plane work, long Spark jobs and I/O-heavy archival each scale on their own queue. */
export const TASK_QUEUE_ROLES = ['control', 'spark', 'io'] as const;
export type TaskQueueName = (typeof TASK_QUEUE_ROLES)[number];
export type TaskQueues = Record<TaskQueueName, string>;

/**
 * The queue names for a prefix (DANAU_TASK_QUEUE_PREFIX, `danau-` by default): two deployments, or
 * a test run beside a demo, share a namespace without taking each other's tasks.
 */
export function taskQueues(prefix = 'danau-'): TaskQueues {
  return { control: `${prefix}control`, spark: `${prefix}spark`, io: `${prefix}io` };
}

/** The queue of another role beside the one a workflow runs on (workflows run on `<prefix>control`). */
export function siblingQueue(current: string, role: TaskQueueName): string {
  const m = /^(.*)(control|spark|io)$/.exec(current);
  if (!m) throw new Error(`task queue ${current} is not named <prefix>control|spark|io`);
  return `${m[1]}${role}`;
}

/** Custom search attributes registered when the stack comes up (scripts/stack/temporal.sh). */
export const SearchAttribute = {
  table: defineSearchAttributeKey('DanauTable', 'KEYWORD'),
  layer: defineSearchAttributeKey('DanauLayer', 'KEYWORD'),
  partition: defineSearchAttributeKey('DanauPartition', 'KEYWORD'),
} as const;

export type Layer = 'control' | 'raw' | 'lake' | 'warehouse' | 'reporting' | 'archive' | 'platform' | 'pipeline';

/** `source.schema.table`: how a table is named in search attributes, workflow ids and logs. */
export function tableKey(t: { source: string; schema: string; table: string }): string {
  return `${t.source}.${t.schema}.${t.table}`;
}

/** The parts of a `source.schema.table` key, or null when it is not one. */
export function parseTableKey(key: string): { source: string; schema: string; table: string } | null {
  const parts = key.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) return null;
  const [source, schema, table] = parts as [string, string, string];
  return { source, schema, table };
}

/** Workflow ids are derived from what the run is for, so a second start joins the first. */
export const WorkflowId = {
  onboardTable: (t: { source: string; schema: string; table: string }) => `onboard-table/${tableKey(t)}`,
  checkStack: (runLabel: string) => `check-stack/${runLabel}`,
  checkSource: (source: string, runLabel: string) => `check-source/${source}/${runLabel}`,
  captureSource: (source: string) => `capture/${source}`,
  checkIngestion: (table: string) => `check-ingestion/${table}`,
  reconcileTable: (table: string) => `reconcile/${table}`,
  syncDmsTask: (source: string) => `sync-dms-task/${source}`,
  upsertLakeTable: (table: string) => `lake-upsert/${table}`,
  buildModels: (label: string) => `build-models/${label}`,
  checkModels: (label: string) => `check-models/${label}`,
  archivePartition: (table: string, level: 'day' | 'month', partition: string) => `archive-partition/${table}/${level}/${partition}`,
  archiveTables: (label: string) => `archive-tables/${label}`,
  recoverTable: (table: string, startDate: string, endDate: string) => `recover-table/${table}/${startDate}..${endDate}`,
  backfill: (table: string, startDate: string, endDate: string) => `backfill/${table}/${startDate}..${endDate}`,
  /** One pipeline per table at a time: a schedule, a backfill and a retry of the table all use this id. */
  tablePipeline: (table: string) => `table-pipeline/${table}`,
  reprocessFailedEvents: (label: string) => `reprocess-failed-events/${label}`,
};

/**
 * Schedule ids: `<queue prefix>schedule/table-pipeline/<table>` and `<queue prefix>schedule/<name>`
 * for the platform's own (archival, reprocessing). The queue prefix keeps a test run's schedules
 * apart from the demo's in a shared namespace; sync only touches ids under its own prefix.
 */
export const ScheduleId = {
  prefix: (queues: TaskQueues) => `${queues.control.replace(/control$/, '')}schedule/`,
  tablePipeline: (queues: TaskQueues, table: string) => `${ScheduleId.prefix(queues)}table-pipeline/${table}`,
  platform: (queues: TaskQueues, name: string) => `${ScheduleId.prefix(queues)}${name}`,
};
