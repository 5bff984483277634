// Every activity's log lines carry the table it works on (from its input's `table`), beside the
// workflow, run and activity ids the SDK adds.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { tableOfInput } from '../workflows/interceptors';

export const activityTableLogAttributes: ActivityInterceptorsFactory = () => {
  let table: string | undefined;
  return {
    inbound: {
      async execute(input, next) {
        table = tableOfInput(input.args);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next(table ? { table, ...input } : input);
      },
    },
  };
};

/** The workflow interceptor module, bundled with the workflows. */
export const workflowInterceptorModules = [require.resolve('../workflows/interceptors')];
