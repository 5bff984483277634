// Names shared by workflows, workers and clients. Pure and deterministic: lib/common/ is the only
// part of lib/ that workflow code may import as values.
import { defineSearchAttributeKey } from '@temporalio/common';

/** Quick control-plane work, long Spark jobs and I/O-heavy archival each scale on their own queue. */
export const TaskQueue = {
  control: 'danau-control',
  spark: 'danau-spark',
  io: 'danau-io',
} as const;
export type TaskQueueName = keyof typeof TaskQueue;

/** Custom search attributes registered when the stack comes up (scripts/stack/temporal.sh). */
export const SearchAttribute = {
  table: defineSearchAttributeKey('DanauTable', 'KEYWORD'),
  layer: defineSearchAttributeKey('DanauLayer', 'KEYWORD'),
  partition: defineSearchAttributeKey('DanauPartition', 'KEYWORD'),
} as const;

export type Layer = 'control' | 'raw' | 'lake' | 'warehouse' | 'reporting' | 'archive' | 'platform';

/** `source.schema.table`: how a table is named in search attributes, workflow ids and logs. */
export function tableKey(t: { source: string; schema: string; table: string }): string {
  return `${t.source}.${t.schema}.${t.table}`;
}

/** Workflow ids are derived from what the run is for, so a second start joins the first. */
export const WorkflowId = {
  onboardTable: (t: { source: string; schema: string; table: string }) => `onboard-table/${tableKey(t)}`,
  checkStack: (runLabel: string) => `check-stack/${runLabel}`,
  captureSource: (source: string) => `capture/${source}`,
};
