// The table-pipeline benchmark: what Temporal and Danau's orchestration cost per table-run, with the
// heavy work taken out. It onboards N tables (default 1,000) in a scratch control plane, each with one
// enabled model, starts runTablePipeline for all of them at once (as N schedules firing on the same
// minute would), waits for every run, and prints the scheduling overhead per table-run and the history
// each run leaves (the pipeline workflow and its two children).
//
// What is real: the workflow code (runTablePipeline → upsertLakeTable → buildModels, bundled from
// dist/workflows as the worker does), Temporal (the stack's dev server, in the stack's namespace, on
// task queues of this process's own), the three workers with the production activity slots of
// workers/workers.ts (control 20, io 4, spark 1), and the control-plane activities planTablePipeline,
// modelsBehindLake, recordPipelineFailure and resolvePipelineFailures against a migrated PostgreSQL
// control plane.
//
// What is a NO-OP stand-in (no S3, no Spark, no warehouse): checkIngestion (all checks pass),
// planLakeBatch (one synthetic one-file batch per table the first time, none after; it records the
// batch through ControlPlane.planLakeBatch), runLakeUpsert (a canned result, at once),
// commitLakeBatch (ControlPlane.commitLakeBatch, so modelsBehindLake sees the lake move),
// pullModelChanges (a canned one-row pull), buildModel (ControlPlane.startModelBuild +
// commitModelBuild, no SQL), planModelBuilds (the models asked for, one level, one reporting object
// each, without reading the control plane), refreshReportingObject (a canned result) and sendAlert.
//
// A short solo phase first runs a few other tables one at a time (nothing else running): the
// unloaded latency of one run, i.e. the orchestration on its critical path. Then the burst.
//
//   npm run -s bench:pipeline -- [--tables 1000] [--solo 10] [--start-concurrency 20]
//                                 [--slots 20,4,1] [--sample 50] [--keep]
// --keep leaves the runs' histories in Temporal (by default they are deleted after measuring).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Client, Connection, type WorkflowExecutionDescription } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createPipelineActivities } from '../../activities/pipeline';
import { LakeCheckpoint } from '../../activities/lake';
import { forEachLimit } from '../../lib/archive/limit';
import { WorkflowId, parseTableKey, type TaskQueues } from '../../lib/common/temporal';
import { loadConfig, type DanauConfig } from '../../lib/config';
import { migrate } from '../../lib/control-plane/migrate';
import { ControlPlane } from '../../lib/control-plane/store';
import type { LakeUpsertResult } from '../../lib/lake/batches';
import { modelSchema } from '../../lib/models/definition';
import type { LakeColumn } from '../../lib/tables/definition';
import type { ModelActivities, ModelSparkActivities } from '../../workflows/buildModels';
import type { CheckIngestionResult, IngestionCheckActivities } from '../../workflows/checkIngestion';
import type { RunTablePipelineResult, TablePipelineActivities } from '../../workflows/runTablePipeline';
import type { LakeActivities, LakeSparkActivities } from '../../workflows/upsertLakeTable';
import { createScratchDatabase, type ScratchDatabase } from '../../test/support/stack';

const NO_OP_STEPS = [
  'checkIngestion',
  'planLakeBatch',
  'runLakeUpsert',
  'commitLakeBatch',
  'pullModelChanges',
  'buildModel',
  'planModelBuilds',
  'refreshReportingObject',
  'sendAlert',
] as const;
const REAL_STEPS = ['planTablePipeline', 'modelsBehindLake', 'recordPipelineFailure', 'resolvePipelineFailures'] as const;

const COLUMNS: LakeColumn[] = [
  { name: 'id', lakeName: 'id', sourceType: 'int', lakeType: 'int', nullable: false },
  { name: 'name', lakeName: 'name', sourceType: 'varchar(100)', lakeType: 'string', nullable: true },
  { name: 'updated_at', lakeName: 'updated_at', sourceType: 'datetime(6)', lakeType: 'timestamp', nullable: false },
];

/** The tables' freshness SLA (the column's default): a run still going after this alerts as late. */
const FRESHNESS_SLA_MINUTES = 15;
const tableName = (i: number) => `t${String(i).padStart(5, '0')}`;
const modelName = (table: string) => `dim_${table}`;
const hudiInstant = (d: Date) => d.toISOString().replace(/[-:TZ.]/g, '');

// ---------- the control plane ----------

interface Onboarded {
  source: string;
  solo: string[];
  burst: string[];
}

/** One source, `solo + burst` tables as rows (what `danau tables add` leaves), one enabled SCD1 model per table. */
async function onboard(controlPlane: ControlPlane, source: string, solo: number, burst: number): Promise<Onboarded> {
  await controlPlane.pool.query(`INSERT INTO sources (source_name, engine, database_name, connection_secret, description) VALUES ($1, 'mysql', 'bench', 'DANAU_BENCH_UNUSED', 'bench:pipeline')`, [source]);
  const total = solo + burst;
  await controlPlane.pool.query(
    `INSERT INTO tables (source_name, schema_name, table_name, primary_key, precombine_field, partition_field, columns, freshness_sla_minutes)
     SELECT $1, 'bench', 't' || lpad(g::text, 5, '0'), ARRAY['id'], 'updated_at', 'updated_at', $2::jsonb, $4 FROM generate_series(1, $3::int) g`,
    [source, JSON.stringify(COLUMNS), total, FRESHNESS_SLA_MINUTES],
  );
  const keys = Array.from({ length: total }, (_, i) => `${source}.bench.${tableName(i + 1)}`);
  await forEachLimit(keys, 4, async (key) => {
    const def = modelSchema.parse({ name: modelName(key.split('.')[2]!), kind: 'scd1_dimension', source: key, naturalKey: ['id'], surrogateKey: 'sk', columns: ['name'] });
    await controlPlane.upsertModel(def, 'bench:pipeline');
  });
  return { source, solo: keys.slice(0, solo), burst: keys.slice(solo) };
}

// ---------- the no-op stand-ins for the heavy steps ----------

type IoStandIns = IngestionCheckActivities & LakeActivities & Omit<ModelActivities, 'checkModel'>;
type SparkStandIns = LakeSparkActivities & ModelSparkActivities;

function noOpHeavySteps(controlPlane: ControlPlane): { io: IoStandIns; spark: SparkStandIns; sendAlert: TablePipelineActivities['sendAlert'] } {
  const tableOf = async (key: string) => {
    const p = parseTableKey(key);
    const t = p ? await controlPlane.getTable(p.source, p.schema, p.table) : null;
    if (!t) throw new Error(`bench: table ${key} is not onboarded`);
    return t;
  };
  const syntheticFile = (key: string) => `bench/${key}/20240101-000000000-0000000001.parquet`;
  return {
    io: {
      checkIngestion({ table }): Promise<CheckIngestionResult> {
        return Promise.resolve({
          table,
          ok: true,
          filesChecked: 1,
          checks: [
            { name: 'continuity', ok: true, message: 'no-op' },
            { name: 'schema_drift', ok: true, message: 'no-op' },
            { name: 'freshness', ok: true, message: 'no-op' },
          ],
          paused: null,
        });
      },
      async planLakeBatch({ table: key }) {
        const table = await tableOf(key);
        const open = await controlPlane.openLakeBatch(table.tableId);
        if (open) return { batchId: open.batchId, files: open.files.length, bytes: open.files.reduce((n, f) => n + f.size, 0), resumed: true };
        const file = syntheticFile(key);
        if ((await controlPlane.consumedLakeFiles(table.tableId)).has(file)) return null;
        const planned = await controlPlane.planLakeBatch({ batchId: `${key}-bench-0001`, tableId: table.tableId, files: [{ key: file, size: 4096 }] });
        return { batchId: planned.batchId, files: 1, bytes: 4096, resumed: false };
      },
      async commitLakeBatch({ table: key, batchId, result, run }) {
        const checkpoint = result.instant ? { ...LakeCheckpoint.table(key), position: result.instant, details: { batchId } } : null;
        const committed = await controlPlane.commitLakeBatch(batchId, result, { runner: run.runner, logLocation: run.logLocation }, [], checkpoint);
        return { committed, latestInstant: result.instant };
      },
      planModelBuilds({ models }) {
        const wanted = models ?? [];
        return Promise.resolve({ levels: wanted.length ? [wanted] : [], reportingLevels: wanted.length ? [wanted.map((m) => `rpt_${m}`)] : [] });
      },
      async buildModel({ model, buildId, pull }) {
        await controlPlane.startModelBuild(buildId, model, pull.beginInstant);
        await controlPlane.commitModelBuild(buildId, model, { endInstant: pull.endInstant, rowsStaged: pull.rows, fullComparison: pull.fullComparison });
        return { built: true, rowsEstimate: 1 };
      },
      refreshReportingObject({ name }) {
        return Promise.resolve({ name, kind: 'table' as const, rows: 1, skipped: null });
      },
    },
    spark: {
      runLakeUpsert({ batchId }) {
        const result: LakeUpsertResult = {
          ok: true,
          batchId,
          instant: hudiInstant(new Date()),
          changelogInstant: null,
          alreadyApplied: false,
          rowsRead: 1,
          rowsUpserted: 1,
          rowsDeleted: 0,
          rowsStale: 0,
          rowsDuplicate: 0,
          rowsQuarantined: 0,
          rowsMoved: 0,
          seconds: 0,
        };
        return Promise.resolve({ result, run: { runner: 'local' as const, attached: false, logLocation: 'bench:no-op', elapsedMs: 0 } });
      },
      pullModelChanges() {
        return Promise.resolve({ rows: 1, outputUri: null, beginInstant: '00000000000000000', endInstant: hudiInstant(new Date()), fullComparison: false });
      },
    },
    sendAlert() {
      return Promise.resolve({ delivered: false });
    },
  };
}

// ---------- measuring ----------

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '-');

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
const max = (values: number[]) => values.reduce((a, b) => Math.max(a, b), -Infinity);

/** CPU seconds (user + system) a process has used, from /proc; null when it cannot be read. */
function processCpuSeconds(pid: number | null): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the command name), in clock ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function temporalServerPid(config: DanauConfig): number | null {
  try {
    // The stack's pid file: `<pid> <start time>`.
    const pid = Number(readFileSync(path.join(config.home, 'run', 'temporal.pid'), 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

interface Described {
  workflowId: string;
  status: string;
  events: number;
  bytes: number;
  startMs: number;
  closeMs: number | null;
}

function described(d: WorkflowExecutionDescription): Described {
  const raw = d.raw.workflowExecutionInfo?.historySizeBytes;
  return {
    workflowId: d.workflowId,
    status: d.status.name,
    events: d.historyLength,
    bytes: d.historySize ?? (raw == null ? NaN : Number(raw)),
    startMs: d.startTime.getTime(),
    closeMs: d.closeTime ? d.closeTime.getTime() : null,
  };
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

function eventMs(e: HistoryEvent | undefined): number {
  const t = e?.eventTime;
  if (!t) return NaN;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

/** Where a run's time goes, summed over the run's histories (its critical path: the steps are sequential). */
interface Breakdown {
  workflowTasks: number;
  workflowTaskWaitMs: number;
  workflowTaskRunMs: number;
  activities: Record<string, { count: number; waitMs: number; runMs: number }>;
  childStartMs: number;
  /** Workflow tasks that timed out (a sticky task not picked up in time goes back to the normal queue) or failed. */
  workflowTaskTimeouts: number;
  /** Activity attempts after the first. */
  activityRetries: number;
}

function breakdown(histories: HistoryEvent[][], queues: TaskQueues): Breakdown {
  const role = (q: string | null | undefined) => (q === queues.control ? 'control' : q === queues.io ? 'io' : q === queues.spark ? 'spark' : String(q));
  const out: Breakdown = { workflowTasks: 0, workflowTaskWaitMs: 0, workflowTaskRunMs: 0, activities: {}, childStartMs: 0, workflowTaskTimeouts: 0, activityRetries: 0 };
  for (const events of histories) {
    const byId = new Map<string, HistoryEvent>(events.map((e) => [String(e.eventId), e]));
    for (const e of events) {
      switch (e.eventType) {
        case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
          const scheduled = byId.get(String(e.workflowTaskStartedEventAttributes?.scheduledEventId));
          out.workflowTasks++;
          out.workflowTaskWaitMs += eventMs(e) - eventMs(scheduled);
          break;
        }
        case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
          out.workflowTaskRunMs += eventMs(e) - eventMs(byId.get(String(e.workflowTaskCompletedEventAttributes?.startedEventId)));
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
          const a = e.activityTaskCompletedEventAttributes;
          const scheduled = byId.get(String(a?.scheduledEventId));
          const started = byId.get(String(a?.startedEventId));
          const r = role(scheduled?.activityTaskScheduledEventAttributes?.taskQueue?.name);
          const slot = (out.activities[r] ??= { count: 0, waitMs: 0, runMs: 0 });
          slot.count++;
          slot.waitMs += eventMs(started) - eventMs(scheduled);
          slot.runMs += eventMs(e) - eventMs(started);
          break;
        }
        case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
          out.workflowTaskTimeouts++;
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
          if ((e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) out.activityRetries++;
          break;
        case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: {
          const initiated = byId.get(String(e.childWorkflowExecutionStartedEventAttributes?.initiatedEventId));
          out.childStartMs += eventMs(e) - eventMs(initiated);
          break;
        }
        default:
      }
    }
  }
  return out;
}

// ---------- the run ----------

interface Options {
  tables: number;
  solo: number;
  startConcurrency: number;
  slots: [number, number, number];
  sample: number;
  keep: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      tables: { type: 'string', default: '1000' },
      solo: { type: 'string', default: '10' },
      'start-concurrency': { type: 'string', default: '20' },
      slots: { type: 'string', default: '20,4,1' },
      sample: { type: 'string', default: '50' },
      keep: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${v}`);
    return n;
  };
  const slots = values.slots.split(',').map((s, i) => int(`slots (${['control', 'io', 'spark'][i]})`, s.trim(), 1));
  if (slots.length !== 3) throw new Error(`--slots: expected control,io,spark activity slots such as 20,4,1, got ${values.slots}`);
  return {
    tables: int('tables', values.tables, 1),
    solo: int('solo', values.solo, 0),
    startConcurrency: int('start-concurrency', values['start-concurrency'], 1),
    slots: slots as [number, number, number],
    sample: int('sample', values.sample, 0),
    keep: values.keep,
  };
}

const say = (line: string) => process.stderr.write(`[bench:pipeline] ${line}\n`);

async function main(): Promise<void> {
  const opts = options();
  // Worker logs at WARN: the workflows' per-step INFO lines would be 5,000 lines of noise here.
  // Signals are ours: Ctrl-C cleans up (terminates the runs, drops the scratch database).
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const tag = `${process.pid}${randomBytes(2).toString('hex')}`;
  const config = loadConfig({ ...process.env, DANAU_TASK_QUEUE_PREFIX: `danau-bench-${tag}-` });
  const queues = config.temporal.taskQueues;
  const namespace = config.temporal.namespace;
  const temporalPid = temporalServerPid(config);

  let interrupted = false;
  let interrupt: (err: Error) => void = () => undefined;
  const interruption = new Promise<never>((_, reject) => (interrupt = reject));
  interruption.catch(() => undefined);
  process.once('SIGINT', () => {
    interrupted = true;
    interrupt(new Error('interrupted'));
  });

  let db: ScratchDatabase | undefined;
  let controlPlane: ControlPlane | undefined;
  let nativeConnection: NativeConnection | undefined;
  let connection: Connection | undefined;
  let client: Client | undefined;
  let workers: Worker[] = [];
  let workerRuns: Promise<void>[] = [];
  const started = new Set<string>();
  let report = '';
  try {
    // 1. A scratch control plane with the tables and models onboarded.
    const tSetup = performance.now();
    db = await createScratchDatabase('danau_bench_pipeline');
    const migrationPool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      await migrate(migrationPool);
    } finally {
      await migrationPool.end();
    }
    controlPlane = ControlPlane.connect(db.url);
    const tables = await onboard(controlPlane, `bench${tag}`, opts.solo, opts.tables);
    say(`scratch control plane ready: ${opts.solo + opts.tables} tables and models onboarded in ${fmt((performance.now() - tSetup) / 1000)} s`);

    // 2. The workers, in this process, on this run's own task queues.
    nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    connection = await Connection.connect({ address: config.temporal.address });
    client = new Client({ connection, namespace });
    const standIns = noOpHeavySteps(controlPlane);
    const [controlSlots, ioSlots, sparkSlots] = opts.slots;
    const tBundle = performance.now();
    workers = await Promise.all([
      Worker.create({
        connection: nativeConnection,
        namespace,
        taskQueue: queues.control,
        workflowsPath: require.resolve('../../workflows'),
        activities: { ...createPipelineActivities({ controlPlane }), sendAlert: standIns.sendAlert },
        maxConcurrentActivityTaskExecutions: controlSlots,
      }),
      Worker.create({ connection: nativeConnection, namespace, taskQueue: queues.io, activities: standIns.io, maxConcurrentActivityTaskExecutions: ioSlots }),
      Worker.create({ connection: nativeConnection, namespace, taskQueue: queues.spark, activities: standIns.spark, maxConcurrentActivityTaskExecutions: sparkSlots }),
    ]);
    workerRuns = workers.map((w) => w.run());
    say(`workers up on ${queues.control.replace(/control$/, '')}{control,io,spark} in namespace ${namespace} (workflow bundle built in ${fmt((performance.now() - tBundle) / 1000)} s)`);

    const start = (table: string) => {
      started.add(table);
      return client!.workflow.start('runTablePipeline', { taskQueue: queues.control, workflowId: WorkflowId.tablePipeline(table), args: [{ table }] });
    };
    const results = new Map<string, RunTablePipelineResult | Error>();
    const finish = async (table: string) => {
      try {
        results.set(table, await client!.workflow.getHandle(WorkflowId.tablePipeline(table)).result() as RunTablePipelineResult);
      } catch (err) {
        results.set(table, err instanceof Error ? err : new Error(String(err)));
      }
    };

    // 3. Solo: one run at a time, nothing else on the queues.
    for (const table of tables.solo) {
      await Promise.race([start(table), interruption]);
      await Promise.race([finish(table), interruption]);
    }

    // 4. The burst: every table's run started at once (start requests `startConcurrency` at a time).
    const cpu0 = process.cpuUsage();
    const server0 = processCpuSeconds(temporalPid);
    const t0 = Date.now();
    let startedAll = 0;
    const starting = forEachLimit(tables.burst, opts.startConcurrency, async (table) => {
      if (interrupted) throw new Error('interrupted');
      await start(table);
    }).then(() => (startedAll = Date.now()));
    await Promise.race([starting, interruption]);
    say(`${tables.burst.length} runs started in ${fmt((startedAll - t0) / 1000)} s; waiting for them`);
    const progress = setInterval(() => say(`${results.size - tables.solo.length}/${tables.burst.length} runs closed`), 30_000);
    try {
      await Promise.race([forEachLimit(tables.burst, 50, finish), interruption]);
    } finally {
      clearInterval(progress);
    }
    const t1 = Date.now();
    const cpu = process.cpuUsage(cpu0);
    const server1 = processCpuSeconds(temporalPid);
    const maxRssMiB = process.resourceUsage().maxRSS / 1024;

    // 5. Each run's pipeline workflow and its two children, as Temporal describes them.
    const describe = async (workflowId: string) => described(await client!.workflow.getHandle(workflowId).describe());
    const runs = new Map<string, { pipeline: Described; lake: Described | null; models: Described | null }>();
    await Promise.race([
      forEachLimit([...tables.solo, ...tables.burst], 8, async (table) => {
        const child = async (id: string) => describe(id).catch(() => null);
        runs.set(table, { pipeline: await describe(WorkflowId.tablePipeline(table)), lake: await child(WorkflowId.upsertLakeTable(table)), models: await child(WorkflowId.buildModels(`table/${table}`)) });
      }),
      interruption,
    ]);

    // 6. Where the time goes, from the histories of a sample of the burst's runs.
    const sampleTables = opts.sample ? tables.burst.filter((_, i) => i % Math.max(1, Math.floor(tables.burst.length / opts.sample)) === 0).slice(0, opts.sample) : [];
    const sampled: Breakdown[] = [];
    const soloBreakdowns: Breakdown[] = [];
    const historiesOf = async (table: string) =>
      Promise.all(
        [WorkflowId.tablePipeline(table), WorkflowId.upsertLakeTable(table), WorkflowId.buildModels(`table/${table}`)].map(async (id) => (await client!.workflow.getHandle(id).fetchHistory()).events ?? []),
      );
    await Promise.race([
      Promise.all([
        forEachLimit(sampleTables, 4, async (table) => void sampled.push(breakdown(await historiesOf(table), queues))),
        forEachLimit(tables.solo, 4, async (table) => void soloBreakdowns.push(breakdown(await historiesOf(table), queues))),
      ]),
      interruption,
    ]);

    // 7. The figures.
    const outcomes = new Map<string, number>();
    let late = 0;
    for (const table of [...tables.solo, ...tables.burst]) {
      const r = results.get(table);
      if (r && !(r instanceof Error) && r.late) late++;
      const key = !r ? 'no result' : r instanceof Error ? `failed: ${r.message.slice(0, 120)}` : `${r.outcome} (${r.steps.map((s) => `${s.name} ${s.status}`).join(', ')})`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    const burstRuns = tables.burst.map((t) => runs.get(t)!).filter(Boolean);
    const soloRuns = tables.solo.map((t) => runs.get(t)!).filter(Boolean);
    const latency = (r: { pipeline: Described }) => (r.pipeline.closeMs ?? NaN) - r.pipeline.startMs;
    const burstLatency = burstRuns.map(latency);
    const soloLatency = soloRuns.map(latency);
    const lastClose = max(burstRuns.map((r) => r.pipeline.closeMs ?? NaN));
    const wallMs = (Number.isFinite(lastClose) ? lastClose : t1) - t0;
    const n = tables.burst.length;
    const serverCpu = server0 != null && server1 != null ? server1 - server0 : NaN;
    const workerCpuS = (cpu.user + cpu.system) / 1e6;

    const row = (label: string, values: number[], unit: string, d = 0) => `| ${label} | ${fmt(mean(values), d)} | ${fmt(percentile(values, 50), d)} | ${fmt(percentile(values, 95), d)} | ${fmt(max(values), d)} | ${unit} |`;
    const hist = (pick: (r: (typeof burstRuns)[number]) => Described | null) => burstRuns.map(pick).filter((d): d is Described => d !== null);
    const pipelineH = hist((r) => r.pipeline);
    const lakeH = hist((r) => r.lake);
    const modelsH = hist((r) => r.models);
    const totalBytes = burstRuns.map((r) => r.pipeline.bytes + (r.lake?.bytes ?? 0) + (r.models?.bytes ?? 0));
    const totalEvents = burstRuns.map((r) => r.pipeline.events + (r.lake?.events ?? 0) + (r.models?.events ?? 0));

    const breakdownRows = (label: string, bs: Breakdown[]) => {
      if (!bs.length) return [];
      const per = (f: (b: Breakdown) => number) => mean(bs.map(f));
      const act = (role: string, f: (a: { count: number; waitMs: number; runMs: number }) => number) => per((b) => (b.activities[role] ? f(b.activities[role]) : 0));
      const lines = [
        `| ${label} | workflow tasks | ${fmt(per((b) => b.workflowTasks), 1)} | ${fmt(per((b) => b.workflowTaskWaitMs))} | ${fmt(per((b) => b.workflowTaskRunMs))} |`,
      ];
      for (const role of ['control', 'io', 'spark']) {
        lines.push(`| ${label} | activities on ${role} | ${fmt(act(role, (a) => a.count), 1)} | ${fmt(act(role, (a) => a.waitMs))} | ${fmt(act(role, (a) => a.runMs))} |`);
      }
      lines.push(`| ${label} | child workflow starts | 2.0 | ${fmt(per((b) => b.childStartMs))} | - |`);
      lines.push(`| ${label} | workflow tasks timed out or failed (sticky queue timeouts: replayed elsewhere) | ${fmt(per((b) => b.workflowTaskTimeouts), 2)} | - | - |`);
      lines.push(`| ${label} | activity retries | ${fmt(per((b) => b.activityRetries), 2)} | - | - |`);
      return lines;
    };

    const lines = [
      `pipeline benchmark: ${n.toLocaleString('en-US')} table-runs of runTablePipeline at once (+ ${tables.solo.length} solo runs first), ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), Temporal = the local dev server (temporal server start-dev, SQLite) at ${config.temporal.address}, namespace ${namespace}`,
      `worker: in this process, activity slots control ${controlSlots} / io ${ioSlots} / spark ${sparkSlots} (as workers/workers.ts), SDK defaults for workflow tasks and cache; control plane: a scratch PostgreSQL database (the stack's cluster)`,
      `REAL: the workflow code (runTablePipeline, child upsertLakeTable, child buildModels), Temporal, and the control-plane activities ${REAL_STEPS.join(', ')}`,
      `NO-OP (the heavy steps replaced, no S3/Spark/warehouse work): ${NO_OP_STEPS.join(', ')} - planLakeBatch/commitLakeBatch/buildModel still write their control-plane rows so the models step runs`,
      `NOTE: a shared 2-core machine (another engineer's tests, Spark included, ran at the same time): expect noise of tens of percent`,
      '',
      `outcomes: ${[...outcomes].map(([k, v]) => `${v} × ${k}`).join('; ')}`,
      `late: ${late} run(s) passed their freshness deadline (the table's SLA, ${FRESHNESS_SLA_MINUTES} min) while running and sent a freshness alert`,
      '',
      '| scheduling overhead | figure |',
      '| --- | ---: |',
      `| burst wall time, first start request → last run closed | ${fmt(wallMs / 1000, 1)} s |`,
      `| of which starting ${n} runs (${opts.startConcurrency} start requests at once) | ${fmt((startedAll - t0) / 1000, 1)} s |`,
      `| throughput | ${fmt((n * 1000) / wallMs, 1)} table-runs/s |`,
      `| wall time per table-run at that throughput (what a schedule period must cover per table) | ${fmt(wallMs / n, 1)} ms |`,
      `| worker process CPU per table-run (workflows + activities + client) | ${fmt((workerCpuS * 1000) / n, 1)} ms |`,
      `| Temporal server CPU per table-run (pid ${temporalPid ?? '?'}; includes other users of the server) | ${fmt((serverCpu * 1000) / n, 1)} ms |`,
      `| solo run latency p50 (one run, nothing else running: orchestration on the critical path) | ${fmt(percentile(soloLatency, 50), 0)} ms |`,
      `| peak RSS of this process (workers + client) | ${fmt(maxRssMiB, 0)} MiB |`,
      '',
      '| per table-run | mean | p50 | p95 | max | unit |',
      '| --- | ---: | ---: | ---: | ---: | --- |',
      row('solo run latency (start → close)', soloLatency, 'ms'),
      row(`burst run latency (start → close, ${n} at once: includes queueing)`, burstLatency, 'ms'),
      row('history events: runTablePipeline', pipelineH.map((d) => d.events), 'events'),
      row('history events: upsertLakeTable (child)', lakeH.map((d) => d.events), 'events'),
      row('history events: buildModels (child)', modelsH.map((d) => d.events), 'events'),
      row('history events: the three together', totalEvents, 'events'),
      row('history size: runTablePipeline', pipelineH.map((d) => d.bytes), 'bytes'),
      row('history size: upsertLakeTable (child)', lakeH.map((d) => d.bytes), 'bytes'),
      row('history size: buildModels (child)', modelsH.map((d) => d.bytes), 'bytes'),
      row('history size: the three together', totalBytes, 'bytes'),
      '',
      `where a run's time goes (summed over its three histories; mean per run; solo runs and ${sampled.length} sampled burst runs):`,
      '',
      '| runs | what | count per run | waiting in the task queue ms | running ms |',
      '| --- | --- | ---: | ---: | ---: |',
      ...breakdownRows('solo', soloBreakdowns),
      ...breakdownRows('burst', sampled),
    ];
    report = lines.join('\n');
  } finally {
    // Cleanup: terminate what is still running on this run's queues, stop the workers, delete the
    // histories (unless --keep), drop the scratch database.
    if (client) {
      const leftovers = new Set<string>();
      try {
        for await (const w of client.workflow.list({ query: `TaskQueue = '${queues.control}' AND ExecutionStatus = 'Running'` })) leftovers.add(w.workflowId);
      } catch (err) {
        say(`could not list running workflows: ${(err as Error).message}`);
      }
      if (interrupted || !report) for (const table of started) leftovers.add(WorkflowId.tablePipeline(table));
      await forEachLimit([...leftovers], 8, async (id) => {
        await client!.workflow
          .getHandle(id)
          .terminate('bench:pipeline cleanup')
          .catch(() => undefined);
      }).catch(() => undefined);
      if (leftovers.size) say(`terminated ${leftovers.size} workflow(s) left running`);
    }
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(workerRuns);
    if (client && !opts.keep) {
      const ids = [...started].flatMap((t) => [WorkflowId.tablePipeline(t), WorkflowId.upsertLakeTable(t), WorkflowId.buildModels(`table/${t}`)]);
      let deleted = 0;
      await forEachLimit(ids, 8, async (id) => {
        try {
          await client!.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId: id } });
          deleted++;
        } catch {
          // not there (a child that never started): nothing to delete
        }
      }).catch(() => undefined);
      say(`deleted ${deleted} workflow histories from namespace ${namespace}`);
    } else if (client) {
      say(`histories kept: ${config.temporal.uiUrl}/namespaces/${namespace}/workflows?query=${encodeURIComponent(`TaskQueue="${queues.control}"`)}`);
    }
    await connection?.close().catch(() => undefined);
    await nativeConnection?.close().catch(() => undefined);
    await controlPlane?.close().catch(() => undefined);
    await db?.drop().catch((err: unknown) => say(`could not drop the scratch database: ${String(err)}`));
  }
  process.stdout.write(`${report}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:pipeline failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
