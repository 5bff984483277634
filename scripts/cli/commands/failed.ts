// danau failed: the failed-event store. List what failed, retry some now (through the
// reprocessFailedEvents workflow, so a retry is the same code path as the scheduled loop), or skip.
import type { Command } from 'commander';
import { Option } from 'commander';
import { WorkflowId } from '../../../lib/common/temporal';
import { FailedEventStore, type FailedEventStatus } from '../../../lib/failed-events/store';
import { workflowUrl } from '../../../lib/temporal/client';
import type { ReprocessFailedEventsResult } from '../../../workflows/reprocessFailedEvents';
import { UsageError, actor, config, positiveInt, print, tableKeyArg, withClient, withControlPlane, workflowArgs } from '../context';

const ids = (values: string[]): number[] => {
  const out = values.map(Number);
  const bad = values.filter((_, i) => !Number.isInteger(out[i]) || out[i]! <= 0);
  if (bad.length) throw new UsageError(`not event ids: ${bad.join(', ')} (danau failed list shows them)`);
  return out;
};

export function registerFailedCommands(program: Command): void {
  const failed = program.command('failed').description('failed events: runs that failed after their retries, rows the lake set aside');
  failed
    .command('list')
    .description('failed events, newest first (default: the ones still open)')
    .addOption(new Option('--status <status...>', 'pending, retrying, dead_letter, resolved, skipped').default(['pending', 'retrying', 'dead_letter']))
    .option('--table <source.schema.table>', 'only this table', tableKeyArg)
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 50)
    .option('--json')
    .action(async (o: { status: FailedEventStatus[]; table?: string; limit: number; json?: boolean }) => {
      const events = await withControlPlane((cp) => new FailedEventStore(cp.pool).list({ status: o.status, table: o.table, limit: o.limit }));
      if (o.json) return print(JSON.stringify(events, null, 2));
      for (const e of events) {
        print(`#${e.eventId} ${e.status.padEnd(11)} ${e.errorType} ${e.table ?? e.subject}  attempts ${e.attempts}, seen ${e.occurrences}x, next ${e.status === 'pending' ? e.nextAttemptAt : '-'}`);
        print(`    ${e.reason}`);
        if (e.lastError && e.lastError !== e.reason) print(`    last: ${e.lastError}`);
        if (Object.keys(e.dataRef).length) print(`    data: ${JSON.stringify(e.dataRef)}`);
      }
      if (!events.length) print(`no failed events with status ${o.status.join(' or ')}`);
    });
  failed
    .command('retry <eventIds...>')
    .description('retry these events now (pending or dead-lettered) and wait for the outcome')
    .action(async (values: string[]) => {
      const eventIds = ids(values);
      const args = workflowArgs('reprocessFailedEvents', { eventIds });
      await withClient(async (client) => {
        const workflowId = WorkflowId.reprocessFailedEvents(`manual-${new Date().toISOString().replace(/[:.]/g, '-')}`);
        print(`reprocessFailedEvents: ${workflowUrl(config(), workflowId)}`);
        const r = (await client.workflow.execute('reprocessFailedEvents', { taskQueue: config().temporal.taskQueues.control, workflowId, args })) as ReprocessFailedEventsResult;
        for (const o of r.outcomes) print(`  #${o.eventId} ${o.kind} → ${o.status}: ${o.detail}`);
        const missing = eventIds.filter((id) => !r.outcomes.some((o) => o.eventId === id));
        if (missing.length) print(`  not retried (resolved, skipped, or no such event): ${missing.join(', ')}`);
      });
    });
  failed
    .command('skip <eventIds...>')
    .description('mark events as needing no retry (fixed by hand, or not worth it)')
    .requiredOption('--note <text>', 'why, for the audit trail')
    .action(async (values: string[], o: { note: string }) => {
      const skipped = await withControlPlane((cp) => new FailedEventStore(cp.pool).skip(ids(values), actor(), o.note));
      print(skipped.length ? `skipped: ${skipped.map((e) => `#${e.eventId}`).join(', ')}` : 'nothing skipped (already resolved or skipped, or no such event)');
    });
}
