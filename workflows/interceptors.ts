// Every workflow's log lines carry the table it works on (from its input's `table`), beside the
// workflow and run ids the SDK adds, so one table's lines can be picked out of the worker's JSON log.
// Bundled with the workflows (workers/workers.ts, scripts/build-workflow-bundle.ts).
import type { WorkflowInterceptors } from '@temporalio/workflow';

export function tableOfInput(args: readonly unknown[]): string | undefined {
  const first = args[0];
  if (first && typeof first === 'object' && typeof (first as { table?: unknown }).table === 'string') return (first as { table: string }).table;
  return undefined;
}

export const interceptors = (): WorkflowInterceptors => {
  let table: string | undefined;
  return {
    inbound: [
      {
        async execute(input, next) {
          table = tableOfInput(input.args);
          return next(input);
        },
      },
    ],
    outbound: [
      {
        getLogAttributes(input, next) {
          return next(table ? { table, ...input } : input);
        },
      },
    ],
  };
};
