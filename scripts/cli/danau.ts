#!/usr/bin/env node
// danau: the command line for operating the platform.
//   danau stack up|down|status         the local stack
//   danau migrate                      apply control-plane migrations
//   danau sources add|check|list       register source databases (checked from the workers)
//   danau tables add|list|show|resume  onboard tables (starts onboardTable workflows); resume a suspended capture
//   danau sample load|generate         the sample healthcare sources
//   danau check                        run the checkStack workflow through the workers
//   danau capture|lake|models …        each layer's workflows
//   danau pipeline run|last            a table's pipeline (scripts/cli/commands/pipeline.ts)
//   danau raw-zone check|move-legacy   the raw zone's <source>/ layout (scripts/cli/commands/raw-zone.ts)
//   danau runs list|status|pause|resume|cancel   any run, filtered like the Web UI
//   danau schedules sync|list|set|trigger|pause|resume   Temporal Schedules from the control plane
//   danau failed list|retry|skip       the failed-event store
//   danau archive partition|tables|recover   raw-zone archival and recovery
import { Command, InvalidArgumentError, Option } from 'commander';
import { TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { ConfigError, repoRoot } from '../../lib/config';
import { WorkflowId, tableKey } from '../../lib/common/temporal';
import { migrate } from '../../lib/control-plane/migrate';
import { connectClient, explainFailure, workflowUrl } from '../../lib/temporal/client';
import {
  parseOnboardingDocument,
  sourceDefinitionSchema,
  TableDefinitionError,

  type TableDefinitionInput,
} from '../../lib/tables/definition';
import { generateChanges } from '../sample/generator';
import { registerArchiveCommands } from './commands/archive';
import { registerFailedCommands } from './commands/failed';
import { registerPipelineCommands } from './commands/pipeline';
import { registerRawZoneCommands } from './commands/raw-zone';
import { registerScheduleCommands } from './commands/schedules';
import { UsageError, actor, config, nonNegative, positiveInt, print, runHealth, withClient, withControlPlane, workflowArgs } from './context';
import type { OnboardTableResult } from '../../workflows/onboardTable';
import type { CheckStackResult } from '../../workflows/checkStack';
import type { CheckSourceInput } from '../../workflows/checkSource';
import type { SourceCheckResult } from '../../lib/sources/check';
import type { CaptureStatus } from '../../workflows/captureSource';
import type { SyncDmsTaskResult } from '../../workflows/syncDmsTask';
import type { UpsertLakeTableResult } from '../../workflows/upsertLakeTable';
import type { BuildModelsResult } from '../../workflows/buildModels';
import type { CheckModelsResult } from '../../workflows/checkModels';
import { ModelDefinitionError, parseModelsFile } from '../../lib/models/definition';
import { hudiTableName, lakeBasePath, lakeTableExists } from '../../lib/lake/batches';
import { HUDI_INDEX_TYPES } from '../../lib/lake/job-contract';
import { SparkSqlQueryEngine, type LakeQueryEngine } from '../../lib/lake/query';
import { AthenaQueryEngine } from '../../lib/lake/athena';
import { createAthenaClient } from '../../lib/aws/clients';
import { createAdapters } from '../../workers/workers';

function runScript(script: string, args: string[]): void {
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'stack', script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--file: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new UsageError(`--file: ${file} is not valid YAML or JSON: ${(err as Error).message}`);
  }
}

const tableType = (v: string) => {
  const t = v.toLowerCase();
  if (t === 'cow' || t === 'copy_on_write') return 'COPY_ON_WRITE';
  if (t === 'mor' || t === 'merge_on_read') return 'MERGE_ON_READ';
  throw new InvalidArgumentError('must be cow or mor');
};

const packageVersion = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
// The Node it runs on too: scripts/cli/danau picks the project's, and a support question starts here.
const program = new Command('danau')
  .description('Operate the Danau lakehouse platform')
  .version(`danau ${packageVersion} on Node ${process.versions.node}`)
  .showHelpAfterError();

// --- stack -------------------------------------------------------------------------------------
const stack = program.command('stack').description('the local stack (Temporal, PostgreSQL, MariaDB, S3, Spark)');
for (const action of ['up', 'down', 'status'] as const) {
  stack
    .command(action)
    .description({ up: 'install what is missing and start every part', down: 'stop what the stack started', status: 'each part, its address, and whether it is healthy' }[action])
    .action(() => runScript('stack.sh', [action]));
}

program
  .command('migrate')
  .description('apply control-plane migrations')
  .action(async () => {
    const pool = new pg.Pool({ connectionString: config().controlDatabaseUrl, max: 1 });
    try {
      const applied = await migrate(pool);
      print(applied.length ? `applied migrations ${applied.join(', ')}` : 'control plane is up to date');
    } finally {
      await pool.end();
    }
  });

// --- sources -----------------------------------------------------------------------------------
const sources = program.command('sources').description('source databases');

/** Runs checkSource on the workers (control queue): they, not this machine, must reach the source. */
async function checkSourceOnWorkers(input: CheckSourceInput): Promise<SourceCheckResult> {
  let result: SourceCheckResult | undefined;
  const taskQueue = config().temporal.taskQueues.control;
  await withClient(async (client) => {
    const workflowId = WorkflowId.checkSource(input.source, new Date().toISOString().replace(/[:.]/g, '-'));
    try {
      // Bounded, so that with no worker running the command says so instead of waiting for ever.
      result = (await client.workflow.execute('checkSource', { taskQueue, workflowId, args: workflowArgs('checkSource', input), workflowExecutionTimeout: '2 minutes' })) as SourceCheckResult;
    } catch (err) {
      if (err instanceof WorkflowFailedError && err.cause instanceof TimeoutFailure) {
        throw new UsageError(`source ${input.source}: no worker answered on task queue ${taskQueue} within 2 minutes; start the workers (npm run worker), or add --no-check`);
      }
      throw err;
    }
  });
  return result!;
}

sources
  .command('add')
  .description('register (or update) a source database, once the workers have resolved its secret and connected')
  .requiredOption('--name <name>', 'source name, e.g. clinic')
  .requiredOption('--engine <engine>', 'mysql or postgres')
  .requiredOption('--database <database>', 'database name at the source')
  .option('--secret <ref>', 'what holds the connection string: an environment variable (DANAU_SECRETS=env) or a Secrets Manager secret name or ARN (DANAU_SECRETS=secretsmanager)')
  .option('--connection-env <VAR>', 'the same as --secret (its name before secrets could live in Secrets Manager)')
  .option('--description <text>', 'what the source is', '')
  .option('--no-check', 'record it without asking the workers to connect (e.g. before its secret exists)')
  .action(async (o: { name: string; engine: string; database: string; secret?: string; connectionEnv?: string; description: string; check: boolean }) => {
    const parsed = sourceDefinitionSchema.safeParse({ name: o.name, engine: o.engine, database: o.database, connectionSecret: o.secret, connectionEnv: o.connectionEnv, description: o.description });
    if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `source ${o.name}: ${i.path.join('.') || '--secret'}: ${i.message}`).join('\n'));
    const def = parsed.data;
    if (o.check) {
      const result = await checkSourceOnWorkers({ source: def.name, definition: { engine: def.engine, databaseName: def.database, connectionSecret: def.connectionSecret } });
      if (!result.ok) throw new UsageError(`${result.message}\nsource ${def.name}: not recorded (fix the above and run this again, or add --no-check)`);
      print(result.message);
    }
    const outcome = await withControlPlane((cp) => cp.upsertSource(def, actor()));
    print(`source ${o.name}: ${outcome}`);
  });
sources
  .command('check')
  .description('ask the workers to resolve a registered source\'s secret and connect')
  .requiredOption('--name <name>', 'source name')
  .action(async (o: { name: string }) => {
    const result = await checkSourceOnWorkers({ source: o.name });
    if (!result.ok) throw new UsageError(result.message);
    print(result.message);
  });
sources
  .command('list')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const rows = await withControlPlane((cp) => cp.listSources());
    if (o.json) return print(JSON.stringify(rows, null, 2));
    for (const s of rows) print(`${s.sourceName.padEnd(12)} ${s.engine.padEnd(9)} ${s.databaseName.padEnd(14)} secret ${s.connectionSecret}  ${s.description}`);
  });

// --- tables ------------------------------------------------------------------------------------
const tables = program.command('tables').description('onboarded tables');
tables
  .command('add')
  .description('onboard tables: checks each against its live source, then records it (one onboardTable workflow per table)')
  .option('-f, --file <file>', 'YAML/JSON: a table, a list of tables, or {sources: [...], tables: [...]}')
  .option('--source <name>')
  .option('--schema <schema>', 'schema (PostgreSQL) or database (MySQL) of the table')
  .option('--table <table>')
  .option('--primary-key <cols>', 'comma-separated; defaults to the source primary key')
  .option('--precombine <col>', 'column that orders changes to a row (e.g. updated_at)')
  .option('--partition-field <col>', 'date/timestamp column for daily partitions')
  .addOption(new Option('--type <type>', 'Hudi table type: cow or mor').argParser(tableType))
  .option('--cleaner-commits <n>', 'Hudi cleaner: commits retained', positiveInt('--cleaner-commits'))
  .addOption(new Option('--index <type>', 'Hudi index: BLOOM (non-global), GLOBAL_BLOOM, or RECORD_INDEX (large tables)').choices(HUDI_INDEX_TYPES))
  .option('--compaction-commits <n>', 'MoR: compact after this many delta commits', positiveInt('--compaction-commits'))
  .addOption(new Option('--archive-level <level>', 'raw-zone archive granularity').choices(['day', 'month']))
  .option('--archive-after-days <n>', 'archive raw partitions older than this', positiveInt('--archive-after-days'))
  .option('--freshness-sla <minutes>', 'alert when raw data is older than this', positiveInt('--freshness-sla'))
  .option('--schedule <cron>', 'pipeline schedule (five-field cron)')
  .option('--disabled', 'onboard but do not schedule')
  .option('--json', 'print JSON results')
  .action(async (o: Record<string, string | number | boolean | undefined>) => {
    let doc: unknown;
    if (o.file) {
      const flags = Object.keys(o).filter((k) => !['file', 'json'].includes(k));
      if (flags.length) throw new UsageError(`--file describes the tables itself; it cannot be combined with ${flags.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
      doc = readDocument(String(o.file));
    } else {
      const def: Record<string, unknown> = {
        source: o.source,
        schema: o.schema,
        table: o.table,
        precombineField: o.precombine,
        partitionField: o.partitionField,
      };
      if (o.primaryKey) def.primaryKey = String(o.primaryKey).split(',').map((s) => s.trim());
      if (o.type) def.hudiTableType = o.type;
      if (o.cleanerCommits) def.cleanerCommitsRetained = o.cleanerCommits;
      if (o.index) def.hudiIndexType = o.index;
      if (o.compactionCommits) def.compactionDeltaCommits = o.compactionCommits;
      if (o.archiveLevel) def.archiveLevel = o.archiveLevel;
      if (o.archiveAfterDays) def.archiveAfterDays = o.archiveAfterDays;
      if (o.freshnessSla) def.freshnessSlaMinutes = o.freshnessSla;
      if (o.schedule) def.schedule = o.schedule;
      if (o.disabled) def.enabled = false;
      doc = def;
    }
    // Every definition is checked for shape before anything is started or written.
    const origin = o.file ? String(o.file) : 'flags';
    const parsed = parseOnboardingDocument(doc, origin);
    await withControlPlane(async (cp) => {
      for (const s of parsed.sources) print(`source ${s.name}: ${await cp.upsertSource(s, actor())}`);
    });
    const results = await onboard(parsed.tables, o.json === true);
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  });

async function onboard(defs: TableDefinitionInput[], json: boolean): Promise<{ ok: boolean }[]> {
  const client = await connectClient(config());
  try {
    // Every input is checked before any run starts.
    const inputs = defs.map((def) => workflowArgs('onboardTable', { ...def, actor: actor() }));
    const runs = inputs.map(async (args) => {
      const workflowId = WorkflowId.onboardTable(args[0]);
      const handle = await client.workflow.start('onboardTable', {
        taskQueue: config().temporal.taskQueues.control,
        workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args,
      });
      try {
        const result = (await handle.result()) as OnboardTableResult;
        return { ok: true as const, workflowId, result };
      } catch (err) {
        return { ok: false as const, workflowId, error: explainFailure(err) };
      }
    });
    const results = await Promise.all(runs);
    if (json) print(JSON.stringify(results, null, 2));
    else
      for (const r of results) {
        if (r.ok) {
          const res = r.result;
          print(`✔ ${res.table}: ${res.outcome} (table_id ${res.tableId}, ${res.sourceEngine}, ${res.settings.hudiTableType})`);
          print(`    primary key ${res.primaryKey.join(', ')}; precombine ${res.settings.precombineField}; partitioned daily by ${res.settings.partitionField}`);
          print(`    ${res.columns.length} columns: ${res.columns.map((c) => `${c.name}${c.lakeName !== c.name ? ` (lake ${c.lakeName})` : ''} ${c.sourceType}→${c.lakeType}`).join(', ')}`);
          for (const w of res.warnings ?? []) print(`    ⚠ ${w}`);
        } else {
          print(`✘ ${r.workflowId.replace('onboard-table/', '')}: ${r.error.message}`);
        }
        print(`    ${workflowUrl(config(), r.workflowId)}`);
      }
    return results;
  } finally {
    await client.connection.close();
  }
}

tables
  .command('list')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const rows = await withControlPlane((cp) => cp.listTables());
    if (o.json) return print(JSON.stringify(rows, null, 2));
    if (rows.length === 0) return print('no tables onboarded yet (danau tables add)');
    print(`${'TABLE'.padEnd(36)} ${'TYPE'.padEnd(14)} ${'KEY'.padEnd(16)} ${'PRECOMBINE'.padEnd(12)} ${'PARTITION'.padEnd(16)} ENABLED`);
    for (const t of rows) {
      print(
        `${tableKey({ source: t.sourceName, schema: t.schemaName, table: t.tableName }).padEnd(36)} ${t.hudiTableType.padEnd(14)} ${t.primaryKey.join(',').padEnd(16)} ${t.precombineField.padEnd(12)} ${t.partitionField.padEnd(16)} ${t.enabled ? 'yes' : `no${t.pausedReason ? ` (${t.pausedReason})` : ''}`}`,
      );
    }
  });

tables
  .command('show <table>')
  .description('one table: settings, columns and audit trail (table as source.schema.table)')
  .option('--json', 'print JSON')
  .action(async (ref: string, o: { json?: boolean }) => {
    const parts = ref.split('.');
    if (parts.length !== 3) throw new UsageError(`table must be written source.schema.table, got ${ref}`);
    const [source, schema, name] = parts as [string, string, string];
    const { table, audit } = await withControlPlane(async (cp) => ({
      table: await cp.getTable(source, schema, name),
      audit: await cp.auditTrail(`table:${ref}`),
    }));
    if (!table) throw new UsageError(`table ${ref} is not onboarded (danau tables list)`);
    if (o.json) return print(JSON.stringify({ ...table, audit }, null, 2));
    print(`${ref} (table_id ${table.tableId})`);
    for (const [k, v] of Object.entries(table)) if (k !== 'columns') print(`  ${k.padEnd(24)} ${Array.isArray(v) ? v.join(', ') : String(v)}`);
    print('  columns:');
    for (const c of table.columns) print(`    ${c.name.padEnd(24)} ${c.sourceType.padEnd(24)} → ${c.lakeName === c.name ? '' : `${c.lakeName} `}${c.lakeType}${c.nullable ? '' : ' not null'}`);
    print('  audit:');
    for (const a of audit) print(`    ${a.at} ${a.actor} ${a.action}`);
  });

tables
  .command('resume <table>')
  .description("let capture take a table it suspended (danau capture status says why), once the cause is fixed; the table is loaded again, so nothing it missed is lost")
  .action(async (ref: string) => {
    if (ref.split('.').length !== 3) throw new UsageError(`table must be written source.schema.table, got ${ref}`);
    const how = await withControlPlane((cp) => cp.resumeTableCapture(ref, actor()));
    if (!how) throw new UsageError(`capture of ${ref} is not suspended (a table paused by schema drift is re-onboarded instead: danau tables add)`);
    print(`${ref}: resumed; the next capture window ${how === 'reload' ? 'reloads it (after its last change in the raw zone)' : 'takes its full load'} and its pipeline runs again`);
  });

// --- sample ------------------------------------------------------------------------------------
const sample = program.command('sample').description('the sample healthcare sources');
sample
  .command('load')
  .description('create and seed the sample tables in MariaDB (clinic) and PostgreSQL (labs)')
  .action(() => runScript('sample.sh', ['load']));
sample
  .command('generate')
  .description('produce inserts, updates and deletes in the sample sources')
  .option('--changes <n>', 'how many changes per round', positiveInt('--changes'), 20)
  .option('--rounds <n>', 'how many rounds (0 = until interrupted)', nonNegative('--rounds'), 1)
  .option('--every <seconds>', 'pause between rounds', nonNegative('--every'), 5)
  .option('--seed <n>', 'random seed, for a repeatable run', nonNegative('--seed'))
  .action(async (o: { changes: number; rounds: number; every: number; seed?: number }) => {
    const c = config();
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    for (let round = 1; (o.rounds === 0 || round <= o.rounds) && !stop.signal.aborted; round++) {
      const counts = await generateChanges(c.environment, { changes: o.changes, seed: o.seed === undefined ? undefined : o.seed + round });
      print(`round ${round}: ${JSON.stringify(counts)}`);
      if (o.rounds === 0 || round < o.rounds) await new Promise((r) => setTimeout(r, o.every * 1000));
    }
  });

// --- capture -----------------------------------------------------------------------------------
const capture = program.command('capture').description('CDC from a source database into the raw zone (captureSource workflows)');
capture
  .command('start')
  .description('start capturing a source (its full load first, then a window of changes every --window seconds)')
  .requiredOption('--source <name>', 'a registered source')
  .option('--window <seconds>', 'seconds between windows', positiveInt('--window'), 60)
  .option('--max-changes <n>', 'about how many changes one window takes at most', positiveInt('--max-changes'), 50_000)
  .action(async (o: { source: string; window: number; maxChanges: number }) => {
    const args = workflowArgs('captureSource', { source: o.source, windowSeconds: o.window, maxChanges: o.maxChanges });
    await withClient(async (client) => {
      const workflowId = WorkflowId.captureSource(o.source);
      const handle = await client.workflow.start('captureSource', {
        taskQueue: config().temporal.taskQueues.control,
        workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args,
      });
      print(`capturing ${o.source} (run ${handle.firstExecutionRunId}): ${workflowUrl(config(), workflowId)}`);
    });
  });
capture
  .command('status')
  .description("a capture's position, lag, and files and changes written per table")
  .requiredOption('--source <name>')
  .option('--json', 'print JSON')
  .action(async (o: { source: string; json?: boolean }) => {
    await withClient(async (client) => {
      const handle = client.workflow.getHandle(WorkflowId.captureSource(o.source));
      // A failed capture no longer answers for itself: say how it ended, and what a window retries.
      const health = await runHealth(handle);
      if (!health.running) {
        if (o.json) return print(JSON.stringify({ source: o.source, running: false, status: health.status, failure: health.lines.join('\n').trim() || null }, null, 2));
        print(`${o.source}: capture is ${health.status} (${workflowUrl(config(), WorkflowId.captureSource(o.source))})`);
        for (const l of health.lines) print(l);
        return;
      }
      const s = await handle.query<CaptureStatus>('status');
      if (o.json) return print(JSON.stringify({ ...s, retrying: health.lines.map((l) => l.trim()) }, null, 2));
      print(`${s.source}: ${s.paused ? 'PAUSED' : 'running'}; ${s.totals.windows} windows, ${s.totals.changes} changes in ${s.totals.files} files`);
      for (const l of health.lines) print(l);
      if (s.last) print(`  position ${s.last.position}; last window ${s.last.changes} changes, lag ${s.last.lagSeconds ?? '-'} s`);
      for (const t of s.suspended ?? []) print(`  SUSPENDED ${t.table} since ${t.since} (${t.errorType}): ${t.reason}\n    fix it, then: danau tables resume ${t.table}`);
      for (const [table, t] of Object.entries(s.totals.perTable)) print(`  ${table.padEnd(36)} ${String(t.changes).padStart(8)} changes ${String(t.files).padStart(6)} files`);
    });
  });
for (const signal of ['pause', 'resume'] as const) {
  capture
    .command(signal)
    .description(`${signal} a capture (the position is kept)`)
    .requiredOption('--source <name>')
    .action(async (o: { source: string }) => {
      await withClient(async (client) => {
        await client.workflow.getHandle(WorkflowId.captureSource(o.source)).signal(signal);
        print(`${o.source}: ${signal} sent`);
      });
    });
}
capture
  .command('stop')
  .description('stop a capture (cancels its workflow; the saved position is kept for the next start)')
  .requiredOption('--source <name>')
  .action(async (o: { source: string }) => {
    await withClient(async (client) => {
      await client.workflow.getHandle(WorkflowId.captureSource(o.source)).cancel();
      print(`${o.source}: stopped`);
    });
  });

capture
  .command('dms')
  .description('production: create or update the source\'s AWS DMS task from the control plane, and start or stop it (syncDmsTask)')
  .requiredOption('--source <name>', 'a registered source')
  .requiredOption('--replication-instance-arn <arn>')
  .requiredOption('--source-endpoint-arn <arn>')
  .requiredOption('--target-endpoint-arn <arn>', 'the S3 endpoint writing the raw zone')
  .addOption(new Option('--migration-type <type>', 'for a new task').choices(['full-load-and-cdc', 'cdc']).default('full-load-and-cdc'))
  .addOption(new Option('--state <state>', 'what the task should be doing afterwards').choices(['running', 'stopped']).default('running'))
  .action(async (o: { source: string; replicationInstanceArn: string; sourceEndpointArn: string; targetEndpointArn: string; migrationType: 'full-load-and-cdc' | 'cdc'; state: 'running' | 'stopped' }) => {
    const args = workflowArgs('syncDmsTask', { source: o.source, replicationInstanceArn: o.replicationInstanceArn, sourceEndpointArn: o.sourceEndpointArn, targetEndpointArn: o.targetEndpointArn, migrationType: o.migrationType, desiredState: o.state });
    await withClient(async (client) => {
      const workflowId = WorkflowId.syncDmsTask(o.source);
      print(`syncDmsTask: ${workflowUrl(config(), workflowId)}`);
      const result = (await client.workflow.execute('syncDmsTask', {
        taskQueue: config().temporal.taskQueues.control,
        workflowId,
        args,
      })) as SyncDmsTaskResult;
      print(`${result.taskId}: ${result.actions.join(', ')}; now ${result.final.status}`);
    });
  });

// --- lake ----------------------------------------------------------------------------------------
const lake = program.command('lake').description('the processed zone: Hudi tables upserted from the raw zone (upsertLakeTable workflows)');
lake
  .command('upsert')
  .description("apply a table's new raw files to its Hudi table, batch by batch, and wait for the result")
  .requiredOption('--table <source.schema.table>')
  .option('--max-batches <n>', 'stop after this many batches', positiveInt('--max-batches'), 20)
  .option('--max-batch-mb <n>', 'raw megabytes per batch', positiveInt('--max-batch-mb'), 256)
  .action(async (o: { table: string; maxBatches: number; maxBatchMb: number }) => {
    const args = workflowArgs('upsertLakeTable', { table: o.table, maxBatches: o.maxBatches, maxBatchBytes: o.maxBatchMb * 1024 * 1024 });
    await withClient(async (client) => {
      const workflowId = WorkflowId.upsertLakeTable(o.table);
      print(`upsertLakeTable: ${workflowUrl(config(), workflowId)}`);
      const result = (await client.workflow.execute('upsertLakeTable', {
        taskQueue: config().temporal.taskQueues.control,
        workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args,
      })) as UpsertLakeTableResult;
      if (result.batches.length === 0) return print(`${o.table}: nothing new in the raw zone`);
      for (const b of result.batches) {
        const r = b.result;
        print(`  ${b.batchId}${b.resumed ? ' (resumed)' : ''}: ${b.files} files, ${r.rowsRead} rows read, ${r.rowsUpserted} upserted, ${r.rowsDeleted} deleted, ${r.rowsStale} stale, ${r.rowsQuarantined} quarantined; instant ${r.instant ?? '-'}${r.alreadyApplied ? ' (already applied)' : ''} in ${Math.round(b.run.elapsedMs / 1000)} s`);
      }
      print(`${o.table}: at Hudi instant ${result.latestInstant ?? '-'}`);
    });
  });
lake
  .command('batches')
  .description("a table's lake batches: files, instant, row counts")
  .requiredOption('--table <source.schema.table>')
  .action(async (o: { table: string }) => {
    await withControlPlane(async (cp) => {
      const [source, schema, name] = o.table.split('.');
      const t = source && schema && name ? await cp.getTable(source, schema, name) : null;
      if (!t) throw new UsageError(`table ${o.table} is not onboarded (danau tables list)`);
      for (const b of await cp.lakeBatches(t.tableId)) {
        print(`${b.batchId.padEnd(60)} ${b.status.padEnd(9)} ${String(b.fileCount).padStart(5)} files  instant ${(b.instant ?? '-').padEnd(17)} +${b.rowsUpserted} -${b.rowsDeleted} stale ${b.rowsStale} quarantined ${b.rowsQuarantined}${b.alreadyApplied ? ' (already applied)' : ''}`);
      }
    });
  });
lake
  .command('query')
  .description('run SQL over the lake tables (local Spark SQL; each onboarded table is a view <source>_<schema>_<table>; MoR tables are <name>_rt and <name>_ro)')
  .requiredOption('--sql <sql>')
  .option('--max-rows <n>', 'at most this many rows', positiveInt('--max-rows'), 100)
  .action(async (o: { sql: string; maxRows: number }) => {
    const adapters = createAdapters(config());
    try {
      const tables = (await adapters.controlPlane.listTables()).map((t) => ({ name: hudiTableName(t), basePath: lakeBasePath(config(), t), tableType: t.hudiTableType }));
      const c = config();
      // With a Glue database the tables are in the catalog: Athena runs the SQL. Otherwise Spark SQL.
      const engine: LakeQueryEngine = c.catalog.glueDatabase
        ? new AthenaQueryEngine({ client: createAthenaClient(c), database: c.catalog.glueDatabase, workGroup: c.catalog.athenaWorkGroup, ...(c.catalog.athenaOutputUri ? { outputLocation: c.catalog.athenaOutputUri } : {}) })
        : new SparkSqlQueryEngine(adapters.spark, adapters.s3, c);
      const existing = [];
      for (const t of tables) if (await lakeTableExists(adapters.s3, t.basePath)) existing.push(t);
      const result = await engine.query(existing, o.sql, { maxRows: o.maxRows });
      print(result.columns.join('\t'));
      for (const r of result.rows) print(result.columns.map((c) => JSON.stringify(r[c] ?? null)).join('\t'));
      if (result.truncated) print(`(first ${o.maxRows} rows)`);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    } finally {
      await adapters.close();
    }
  });

// --- models ---------------------------------------------------------------------------------------
const models = program.command('models').description('warehouse models (SCD1/SCD2 dimensions, facts) and reporting objects');
models
  .command('add')
  .description('load model and reporting definitions from a YAML/JSON file into the control plane')
  .requiredOption('-f, --file <file>')
  .action(async (o: { file: string }) => {
    const parsed = parseModelsFile(readDocument(o.file));
    await withControlPlane(async (cp) => {
      for (const m of parsed.models) print(`✔ model ${m.name} (${m.kind}): ${await cp.upsertModel(m, actor())}`);
      for (const r of parsed.reporting) print(`✔ reporting ${r.name} (${r.kind}): ${await cp.upsertReporting(r, actor())}`);
    });
  });
models
  .command('list')
  .description('models and reporting objects, with their last build')
  .action(async () => {
    await withControlPlane(async (cp) => {
      for (const m of await cp.listModels()) {
        const at = await cp.getCheckpoint('model', m.name);
        print(`${m.name.padEnd(28)} ${m.kind.padEnd(15)} from ${m.source.padEnd(32)} ${m.enabled ? '' : 'disabled '}at instant ${at?.position ?? '-'}`);
      }
      for (const r of await cp.listReporting()) print(`${r.name.padEnd(28)} ${r.kind.padEnd(15)} after ${r.dependsOn.join(', ')}`);
    });
  });
models
  .command('build')
  .description('build models from the lake (buildModels), then refresh the reporting objects that depend on them')
  .option('--model <names>', 'comma-separated; default every enabled model')
  .option('--no-reporting', 'skip the reporting refresh')
  .action(async (o: { model?: string; reporting: boolean }) => {
    const args = workflowArgs('buildModels', { ...(o.model ? { models: o.model.split(',').map((m) => m.trim()) } : {}), refreshReporting: o.reporting });
    await withClient(async (client) => {
      const workflowId = WorkflowId.buildModels(new Date().toISOString().replace(/[:.]/g, '-'));
      print(`buildModels: ${workflowUrl(config(), workflowId)}`);
      const result = (await client.workflow.execute('buildModels', {
        taskQueue: config().temporal.taskQueues.control,
        workflowId,
        args,
      })) as BuildModelsResult;
      for (const m of result.models) {
        print(`  ${m.model.padEnd(24)} ${m.pull.rows} change(s) pulled (${m.pull.beginInstant} → ${m.pull.endInstant ?? '-'})${m.pull.fullComparison ? ' FULL COMPARISON: the start instant was cleaned' : ''}${typeof m.rowsEstimate === 'number' ? `; the table holds about ${m.rowsEstimate} rows (the warehouse's count, which may lag)` : ''}`);
      }
      for (const r of result.reporting) print(`  ${r.name.padEnd(24)} ${r.kind} ${r.skipped === null ? `refreshed: ${r.rows} rows` : `skipped: ${r.skipped}`}`);
    });
  });

models
  .command('check')
  .description("check the models' invariants over their whole tables (checkModels; each build checks only its batch's keys)")
  .requiredOption('--full', 'every row of each model (the only scope outside a build)')
  .option('--model <names>', 'comma-separated; default every enabled model')
  .action(async (o: { full: boolean; model?: string }) => {
    const args = workflowArgs('checkModels', o.model ? { models: o.model.split(',').map((m) => m.trim()) } : {});
    await withClient(async (client) => {
      const workflowId = WorkflowId.checkModels(new Date().toISOString().replace(/[:.]/g, '-'));
      print(`checkModels: ${workflowUrl(config(), workflowId)}`);
      try {
        const result = (await client.workflow.execute('checkModels', { taskQueue: config().temporal.taskQueues.control, workflowId, args })) as CheckModelsResult;
        for (const m of result.models) {
          if (m.checks.length === 0) print(`  - ${m.model}: no invariant to check (a fact without dimensions)`);
          for (const c of m.checks) print(`  ✔ ${c.name}`);
        }
      } catch (err) {
        throw new UsageError(`checkModels: ${explainFailure(err).message}`);
      }
    });
  });

registerPipelineCommands(program);
registerRawZoneCommands(program);
registerScheduleCommands(program);
registerFailedCommands(program);
registerArchiveCommands(program);

// --- check -------------------------------------------------------------------------------------
program
  .command('check')
  .description('run the checkStack workflow: control plane, object store and a Spark + Hudi smoke job through the workers')
  .option('--no-spark', 'skip the Spark smoke job')
  .action(async (o: { spark: boolean }) => {
    const args = workflowArgs('checkStack', { spark: o.spark });
    const client = await connectClient(config());
    try {
      const workflowId = WorkflowId.checkStack(new Date().toISOString().replace(/[:.]/g, '-'));
      print(`checkStack: ${workflowUrl(config(), workflowId)}`);
      const result = (await client.workflow.execute('checkStack', { taskQueue: config().temporal.taskQueues.control, workflowId, args })) as CheckStackResult;
      print(JSON.stringify(result, null, 2));
    } catch (err) {
      throw new UsageError(`checkStack failed: ${explainFailure(err).message}`);
    } finally {
      await client.connection.close();
    }
  });

// `danau tables list | head` closes the pipe early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof UsageError || err instanceof TableDefinitionError || err instanceof ModelDefinitionError) {
    process.stderr.write(`danau: ${err instanceof TableDefinitionError || err instanceof ModelDefinitionError ? `refused:\n  - ${err.problems.join('\n  - ')}` : err.message}\n`);
  } else {
    process.stderr.write(`danau: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});

