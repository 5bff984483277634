// danau schedules: Temporal Schedules kept in step with the control plane.
import type { Command } from 'commander';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { ScheduleId } from '../../../lib/common/temporal';
import { ScheduleStore, type TableSelector } from '../../../lib/schedules/store';
import { describeSchedules, desiredSchedules, platformScheduleArgs, syncSchedules } from '../../../lib/schedules/sync';
import { UsageError, actor, config, print, withClient, withControlPlane } from '../context';

async function sync(): Promise<void> {
  const { tables, platform } = await withControlPlane(async (cp) => {
    const store = new ScheduleStore(cp.pool);
    return { tables: await store.tableSchedules(), platform: await store.platformSchedules() };
  });
  await withClient(async (client) => {
    const changes = await syncSchedules(client, config().temporal.taskQueues, desiredSchedules(config().temporal.taskQueues, tables, platform));
    const counts = new Map<string, number>();
    for (const c of changes) {
      counts.set(c.change, (counts.get(c.change) ?? 0) + 1);
      if (c.change !== 'unchanged') print(`  ${c.change.padEnd(9)} ${c.scheduleId}`);
    }
    print(`schedules: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}`);
  });
}

function selector(o: { source?: string; table?: string[] }): TableSelector {
  if (!o.source && !o.table?.length) throw new UsageError('name --source <name> and/or --table <source.schema.table> (repeatable, * wildcards)');
  return { source: o.source, tables: o.table };
}

const globMatches = (glob: string, value: string) => new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value);

const collect = (v: string, prior: string[] = []) => [...prior, v];

export function registerScheduleCommands(program: Command): void {
  const schedules = program.command('schedules').description('Temporal Schedules for every table pipeline, archival and reprocessing');
  schedules
    .command('sync')
    .description('create, update, pause, resume and delete schedules to match the control plane')
    .action(sync);
  schedules
    .command('list')
    .description('each schedule: paused or not (and why), runs taken, ticks skipped because the last run was still going, next run')
    .option('--json')
    .action(async (o: { json?: boolean }) => {
      await withClient(async (client) => {
        const reports = await describeSchedules(client, config().temporal.taskQueues);
        if (o.json) return print(JSON.stringify(reports, null, 2));
        for (const r of reports) {
          print(`${r.scheduleId}`);
          print(`  ${r.paused ? `PAUSED: ${r.note ?? ''}` : 'running'}; taken ${r.taken}, skipped (overlap) ${r.skippedOverlap}, missed (catch-up window) ${r.missedCatchupWindow}; next ${r.next ?? '-'}${r.running.length ? `; running ${r.running.join(', ')}` : ''}`);
        }
        if (!reports.length) print('no schedules: run danau schedules sync');
      });
    });
  schedules
    .command('set')
    .description("change the cron of a group of tables' schedules, or a platform schedule's cron and input, then sync")
    .option('--source <name>', 'every table of this source')
    .option('--table <pattern>', 'source.schema.table, * wildcards; repeatable', collect)
    .option('--platform <name>', 'archive-tables or reprocess-failed-events')
    .option('--cron <expression>', 'e.g. "*/2 * * * *" (UTC)')
    .option('--input <json>', "a platform schedule's workflow input, e.g. '{\"maxAttempts\":3}'")
    .action(async (o: { source?: string; table?: string[]; platform?: string; cron?: string; input?: string }) => {
      if (o.cron !== undefined && !/^(\S+\s+){4}\S+$/.test(o.cron.trim())) throw new UsageError(`--cron: ${o.cron} is not a five-field cron expression`);
      let input: Record<string, unknown> | undefined;
      if (o.input !== undefined) {
        try {
          input = JSON.parse(o.input) as Record<string, unknown>;
        } catch (err) {
          throw new UsageError(`--input: not JSON: ${(err as Error).message}`);
        }
        if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new UsageError('--input: must be a JSON object');
        // Checked against the scheduled workflow's schema before it is stored.
        if (o.platform) {
          try {
            platformScheduleArgs(o.platform, input);
          } catch (err) {
            throw new UsageError(`--input: ${(err as Error).message}`);
          }
        }
      }
      await withControlPlane(async (cp) => {
        const store = new ScheduleStore(cp.pool);
        if (o.platform) {
          if (!o.cron && !input) throw new UsageError('--platform: give --cron and/or --input');
          if (!(await store.setPlatform(o.platform, { cron: o.cron, input }, actor()))) throw new UsageError(`--platform: no platform schedule named ${o.platform} (archive-tables, reprocess-failed-events)`);
          print(`${o.platform}: changed`);
        } else {
          if (!o.cron) throw new UsageError('--cron: required for table schedules');
          const changed = await store.setTablesCron(selector(o), o.cron, actor());
          print(changed.length ? `cron ${o.cron}: ${changed.join(', ')}` : 'no table schedule changed');
        }
      });
      await sync();
    });
  schedules
    .command('trigger')
    .description("run a group of tables' pipelines now through their schedules (skipped, and counted, where a run is still going)")
    .option('--source <name>', 'every table of this source')
    .option('--table <pattern>', 'source.schema.table, * wildcards; repeatable', collect)
    .option('--platform <name>', 'archive-tables or reprocess-failed-events')
    .action(async (o: { source?: string; table?: string[]; platform?: string }) => {
      const queues = config().temporal.taskQueues;
      const ids = o.platform
        ? [ScheduleId.platform(queues, o.platform)]
        : (await withControlPlane((cp) => new ScheduleStore(cp.pool).tableSchedules()))
            .filter((t) => (!o.source || t.source === o.source) && (!o.table?.length || o.table.some((p) => globMatches(p, t.table))))
            .map((t) => ScheduleId.tablePipeline(queues, t.table));
      if (!o.platform && !o.source && !o.table?.length) throw new UsageError('name --source, --table or --platform');
      await withClient(async (client) => {
        for (const id of ids) {
          await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.SKIP);
          print(`  triggered ${id}`);
        }
      });
    });
  for (const verb of ['pause', 'resume'] as const) {
    schedules
      .command(verb)
      .description(`${verb} the schedules of a group of tables (a source, or table patterns) or a platform schedule, then sync`)
      .option('--source <name>', 'every table of this source')
      .option('--table <pattern>', 'source.schema.table, * wildcards; repeatable', collect)
      .option('--platform <name>', 'archive-tables or reprocess-failed-events')
      .option('--note <text>', verb === 'pause' ? 'why (shown in the Web UI and danau schedules list); required' : 'unused')
      .action(async (o: { source?: string; table?: string[]; platform?: string; note?: string }) => {
        if (verb === 'pause' && !o.note) throw new UsageError('--note: say why the schedules are paused (on-call reads it in the Web UI)');
        const note = verb === 'pause' ? `${o.note} (${actor()})` : null;
        await withControlPlane(async (cp) => {
          const store = new ScheduleStore(cp.pool);
          if (o.platform) {
            if (!(await store.setPlatformPaused(o.platform, note, actor()))) throw new UsageError(`--platform: no platform schedule named ${o.platform} (archive-tables, reprocess-failed-events)`);
            print(`${o.platform}: ${verb}d`);
          }
          if (o.source || o.table?.length || !o.platform) {
            const changed = await store.setTablesPaused(selector(o), note, actor());
            print(changed.length ? `${verb}d: ${changed.join(', ')}` : `no table schedule changed (already ${verb}d, or none matched)`);
          }
        });
        await sync();
      });
  }
}
