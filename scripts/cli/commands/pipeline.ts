// danau pipeline: run a table's pipeline (runTablePipeline), and danau runs: list, inspect, signal
// and cancel any Danau run, filtered by the search attributes the Web UI filters by.
import type { Command } from 'commander';
import { Option } from 'commander';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowId } from '../../../lib/common/temporal';
import { workflowUrl } from '../../../lib/temporal/client';
import type { BackfillTableResult } from '../../../workflows/backfillTable';
import type { RunTablePipelineResult, TablePipelineStatus } from '../../../workflows/runTablePipeline';
import { UsageError, config, isoDate, positiveInt, print, runHealth, tableKeyArg, withClient, workflowArgs } from '../context';

export function printPipelineResult(r: RunTablePipelineResult): void {
  print(`${r.table}: ${r.outcome}${r.late ? ' (LATE: past its freshness deadline)' : ''}${r.failedEventId ? `; failed event ${r.failedEventId}` : ''}`);
  for (const s of r.steps) print(`  ${s.name.padEnd(10)} ${s.status.padEnd(8)} ${s.detail}`);
}

export function printBackfillResult(r: BackfillTableResult): void {
  print(`${r.table} ${r.startDate}..${r.endDate}: backfilled`);
  for (const s of r.steps) print(`  ${s.name.padEnd(8)} ${s.status.padEnd(8)} ${s.detail}`);
}

/** A visibility query; values are quoted, so a table name cannot change the query's meaning. */
function visibilityQuery(f: { table?: string; layer?: string; status?: string; type?: string }): string {
  const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const parts: string[] = [];
  if (f.table) parts.push(`DanauTable = ${quote(f.table)}`);
  if (f.layer) parts.push(`DanauLayer = ${quote(f.layer)}`);
  if (f.type) parts.push(`WorkflowType = ${quote(f.type)}`);
  if (f.status) parts.push(`ExecutionStatus = ${quote(f.status)}`);
  return parts.join(' AND ');
}

async function handleOf(client: Client, workflowId: string) {
  const handle = client.workflow.getHandle(workflowId);
  try {
    await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no run with workflow id ${workflowId} (danau runs list shows them)`);
    throw err;
  }
  return handle;
}

export function registerPipelineCommands(program: Command): void {
  const pipeline = program.command('pipeline').description("a table's pipeline: checks → lake → models → reporting (runTablePipeline)");
  pipeline
    .command('run')
    .description("run a table's pipeline now (joins the run already going, if any) and wait for its result")
    .requiredOption('--table <source.schema.table>', 'an onboarded table', tableKeyArg)
    .option('--no-wait', 'start it and return')
    .action(async (o: { table: string; wait: boolean }) => {
      const args = workflowArgs('runTablePipeline', { table: o.table });
      await withClient(async (client) => {
        const workflowId = WorkflowId.tablePipeline(o.table);
        const handle = await client.workflow.start('runTablePipeline', {
          taskQueue: config().temporal.taskQueues.control,
          workflowId,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args,
        });
        print(`runTablePipeline: ${workflowUrl(config(), workflowId)}`);
        if (!o.wait) return;
        printPipelineResult((await handle.result()) as RunTablePipelineResult);
      });
    });

  pipeline
    .command('last')
    .description("a table's newest pipeline run (scheduled or not): its steps, or where it is now")
    .requiredOption('--table <source.schema.table>', 'an onboarded table', tableKeyArg)
    .option('--json')
    .action(async (o: { table: string; json?: boolean }) => {
      await withClient(async (client) => {
        const query = visibilityQuery({ table: o.table, type: 'runTablePipeline' });
        let newest: { workflowId: string; runId: string; status: string; start: Date } | undefined;
        for await (const w of client.workflow.list({ query })) {
          if (!newest || w.startTime > newest.start) newest = { workflowId: w.workflowId, runId: w.runId, status: w.status.name, start: w.startTime };
        }
        if (!newest) throw new UsageError(`${o.table}: no pipeline run yet (danau pipeline run --table ${o.table}, or danau schedules sync)`);
        const handle = client.workflow.getHandle(newest.workflowId, newest.runId);
        const state = newest.status === 'RUNNING' ? { running: await handle.query<TablePipelineStatus>('status') } : newest.status === 'COMPLETED' ? { result: (await handle.result()) as RunTablePipelineResult } : {};
        if (o.json) return print(JSON.stringify({ ...newest, ...state }, null, 2));
        print(`${newest.workflowId} ${newest.status} (started ${newest.start.toISOString()})  ${workflowUrl(config(), newest.workflowId)}`);
        if ('result' in state && state.result) printPipelineResult(state.result);
        if ('running' in state && state.running) for (const s of state.running.steps) print(`  ${s.name.padEnd(10)} ${s.status.padEnd(8)} ${s.detail}`);
      });
    });

  pipeline
    .command('backfill')
    .description(
      "re-run a table for a date range after a fix (a column's lake type, the lake job): recover the range's archived raw files, " +
        'apply its raw files to the Hudi table again with the current definition, rebuild the models reading the table (backfillTable)',
    )
    .requiredOption('--table <source.schema.table>', 'an onboarded table', tableKeyArg)
    .requiredOption('--from <date>', "first day (YYYY-MM-DD, by the commit date in the raw files' keys, UTC)", isoDate('--from'))
    .requiredOption('--to <date>', 'last day, inclusive', isoDate('--to'))
    .option('--no-recover', 'do not recover archived files first (apply what the raw zone holds)')
    .option('--no-models', 'do not rebuild the models (nor refresh reporting)')
    .option('--include-load', 'also apply the full-load files again (their keys carry no date)')
    .option('--no-wait', 'start it and return')
    .action(async (o: { table: string; from: string; to: string; recover: boolean; models: boolean; includeLoad?: boolean; wait: boolean }) => {
      if (o.from > o.to) throw new UsageError(`--from ${o.from} is after --to ${o.to}`);
      const args = workflowArgs('backfillTable', { table: o.table, startDate: o.from, endDate: o.to, recover: o.recover, rebuildModels: o.models, ...(o.includeLoad ? { includeLoad: true } : {}) });
      await withClient(async (client) => {
        const workflowId = WorkflowId.backfill(o.table, o.from, o.to);
        // A backfill of the same range already going is joined, not started twice.
        const handle = await client.workflow.start('backfillTable', { taskQueue: config().temporal.taskQueues.control, workflowId, workflowIdConflictPolicy: 'USE_EXISTING', args });
        print(`backfillTable: ${workflowUrl(config(), workflowId)}`);
        if (!o.wait) return;
        printBackfillResult((await handle.result()) as BackfillTableResult);
      });
    });

  const runs = program.command('runs').description('Danau runs in Temporal: list, status, pause, resume, cancel');
  runs
    .command('list')
    .description('runs, newest first, filtered as the Web UI filters them')
    .option('--table <source.schema.table>', 'runs for this table (the DanauTable search attribute)')
    .addOption(new Option('--layer <layer>', 'the DanauLayer search attribute').choices(['pipeline', 'raw', 'processed', 'warehouse', 'archive', 'platform', 'control']))
    .addOption(new Option('--status <status>').choices(['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'TimedOut', 'ContinuedAsNew']))
    .option('--type <workflowType>', 'e.g. runTablePipeline')
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 20)
    .action(async (o: { table?: string; layer?: string; status?: string; type?: string; limit: number }) => {
      await withClient(async (client) => {
        const query = visibilityQuery(o);
        let n = 0;
        for await (const w of client.workflow.list(query ? { query } : {})) {
          print(`${w.startTime.toISOString()}  ${w.status.name.padEnd(10)} ${w.type.padEnd(22)} ${w.workflowId}`);
          if (++n >= o.limit) break;
        }
        if (n === 0) print(`no runs${query ? ` where ${query}` : ''}`);
        else print(`(the same in the Web UI: ${config().temporal.uiUrl}/namespaces/${config().temporal.namespace}/workflows?query=${encodeURIComponent(query)})`);
      });
    });
  runs
    .command('status <workflowId>')
    .description("a run's own status query (every long Danau workflow answers `status`)")
    .action(async (workflowId: string) => {
      await withClient(async (client) => {
        const handle = await handleOf(client, workflowId);
        const d = await handle.describe();
        print(`${workflowId}: ${d.type} ${d.status.name} since ${d.startTime.toISOString()}  ${workflowUrl(config(), workflowId)}`);
        const health = await runHealth(handle);
        for (const l of health.lines) print(l);
        if (!health.running) return;
        print(JSON.stringify(await handle.query('status'), null, 2));
      });
    });
  for (const signal of ['pause', 'resume'] as const) {
    runs
      .command(`${signal} <workflowId>`)
      .description(signal === 'pause' ? 'hold a run at its next safe point (between steps, batches or partitions)' : 'let a paused run go on')
      .action(async (workflowId: string) => {
        await withClient(async (client) => {
          await (await handleOf(client, workflowId)).signal(signal);
          print(`${workflowId}: ${signal} sent`);
        });
      });
  }
  runs
    .command('signal <workflowId> <signal>')
    .description('send any signal a run documents, e.g. approveDelete to an archivePartition waiting for approval')
    .action(async (workflowId: string, signal: string) => {
      await withClient(async (client) => {
        await (await handleOf(client, workflowId)).signal(signal);
        print(`${workflowId}: ${signal} sent`);
      });
    });
  runs
    .command('cancel <workflowId>')
    .description('cancel a run; it stops the Spark job, EMR step, Redshift statement or Athena query it started')
    .action(async (workflowId: string) => {
      await withClient(async (client) => {
        await (await handleOf(client, workflowId)).cancel();
        print(`${workflowId}: cancellation requested`);
      });
    });
}
