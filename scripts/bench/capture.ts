// The capture benchmark (issue 3): rows/second captured and commit-to-object latency at a steady
// load, against the real local stack. It registers both sample databases under names of its own
// in a scratch control plane, captures into a scratch bucket with an in-process worker, and:
//   (a) times the full load of lab_orders, lab_results (PostgreSQL) and patients, appointments
//       (MariaDB), with --load-rows benchmark rows added to each table first;
//   (b) commits single-row INSERT/UPDATE transactions at --rate changes/s for --seconds while
//       captureSource runs with --window second windows;
//   (c) matches every captured change to its commit (a marker unique to each change) and measures
//       the time from the commit's acknowledgement to the moment its file's PutObject returned.
// It fails (exit 1) when a committed change is missing from the raw zone, appears twice, or the
// files do not chain. Afterwards it removes everything it made: workflows, slot, publication,
// benchmark rows, bucket and control-plane database.
//
//   npm run -s bench:capture -- [--seconds 60] [--rate 200] [--window 1] [--load-rows 10000] [--keep-rows]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { tsToMs } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import pg from 'pg';
import { WorkflowId } from '../../lib/common/temporal';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import { checkContinuity } from '../../lib/raw-zone/checks';
import { parseRawKey, compareRawKeys } from '../../lib/raw-zone/keys';
import { readRawFileInfo, type RawFileInfo } from '../../lib/raw-zone/read';
import { MysqlSource } from '../../lib/sources/mysql';
import { PostgresSource } from '../../lib/sources/postgres';
import { checkAgainstSource, parseTableDefinition } from '../../lib/tables/definition';
import { connectClient } from '../../lib/temporal/client';
import { createScratchControlPlane, testConfig, uniqueSuffix } from '../../test/support/stack';
import type { CaptureStatus } from '../../workflows/captureSource';
import { createAdapters, createWorkers, type Adapters } from '../../workers/workers';
import { BENCH_CITY, BENCH_TABLES, SteadyLoad, wallClock, type BenchTable, type Engine } from './steady-load';

interface Options {
  seconds: number;
  rate: number;
  window: number;
  loadRows: number;
  keepRows: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '60' },
      rate: { type: 'string', default: '200' },
      window: { type: 'string', default: '1' },
      'load-rows': { type: 'string', default: '10000' },
      'keep-rows': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name}: expected a number from ${min} to ${max}, got ${v}`);
    return n;
  };
  return {
    seconds: num('seconds', values.seconds, 1, 3600),
    rate: num('rate', values.rate, 1, 5000),
    window: num('window', values.window, 1, 600),
    loadRows: Math.floor(num('load-rows', values['load-rows'], 1, 1_000_000)),
    keepRows: values['keep-rows'],
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function summary(values: number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

const ms = (v: number) => (Number.isFinite(v) ? Math.round(v).toString() : '-');
const fmt = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Busy and total jiffies of all CPUs, from /proc/stat (null where there is none). */
function cpuTimes(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Records when each PutObject returned: the moment the object exists in S3. */
function recordPutTimes(s3: S3Client, times: Map<string, number>): void {
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'PutObjectCommand') {
        const key = (args.input as { Key?: string }).Key;
        // A redone window writes the same key again: the object existed from the first write.
        if (key && !times.has(key)) times.set(key, wallClock());
      }
      return result;
    },
    { step: 'initialize', name: 'danauBenchPutTimes' },
  );
}

interface ActivityInterval {
  scheduled: number;
  started: number;
  completed: number;
}

/** Every completed activity of a workflow, across continue-as-new, with the server's times. */
async function activityIntervals(client: Client, workflowId: string, firstRunId: string): Promise<ActivityInterval[]> {
  const out: ActivityInterval[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const byId = new Map<string, Partial<ActivityInterval>>();
    let next: string | undefined;
    for (const e of history.events ?? []) {
      const at = tsToMs(e.eventTime);
      if (e.activityTaskScheduledEventAttributes) byId.set(String(e.eventId), { scheduled: at });
      else if (e.activityTaskStartedEventAttributes) {
        const a = byId.get(String(e.activityTaskStartedEventAttributes.scheduledEventId));
        if (a) a.started = at;
      } else if (e.activityTaskCompletedEventAttributes) {
        const a = byId.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId));
        if (a?.scheduled !== undefined && a.started !== undefined) out.push({ scheduled: a.scheduled, started: a.started, completed: at });
      } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
        next = e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId ?? undefined;
      }
    }
    runId = next;
  }
  return out;
}

async function listKeys(s3: S3Client, bucket: string): Promise<{ key: string; lastModified: number }[]> {
  const out: { key: string; lastModified: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, lastModified: o.LastModified?.getTime() ?? NaN });
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const keys = (await listKeys(s3, bucket)).map((k) => ({ Key: k.key }));
    if (keys.length === 0) break;
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000) } }));
    }
    deleted += keys.length;
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  return deleted;
}

async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToByteArray();
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  installTemporalRuntime(createLogger('error'), 'error');
  const suffix = uniqueSuffix();
  const tag = randomBytes(3).toString('hex');
  const sources: Record<Engine, string> = { postgres: `labs_bench_${suffix}`, mysql: `clinic_bench_${suffix}` };
  const bucket = `danau-bench-raw-${randomBytes(4).toString('hex')}`;
  const baseEnv = testConfig().environment;
  const labsUrl = baseEnv.DANAU_SOURCE_LABS_URL!;
  const clinicUrl = baseEnv.DANAU_SOURCE_CLINIC_URL!;

  // Everything made is undone in reverse order, whatever happens.
  const undo: { what: string; run: () => Promise<unknown> }[] = [];
  let interrupted = false;
  let load: SteadyLoad | undefined;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('interrupted: stopping the load and cleaning up (Ctrl-C again to quit at once)');
    load?.stop();
  });

  const failures: string[] = [];
  try {
    say(`setup: scratch control plane, bucket ${bucket}, sources ${sources.postgres} and ${sources.mysql}`);
    const { db, controlPlane } = await createScratchControlPlane();
    undo.push({ what: 'drop the scratch control-plane database', run: () => db.drop() });
    undo.push({ what: 'close the control plane', run: () => controlPlane.close() });
    const config = testConfig({ DANAU_CONTROL_DATABASE_URL: db.url, DANAU_RAW_BUCKET: bucket });
    const adapters: Adapters = createAdapters(config);
    undo.push({ what: 'close the adapters', run: () => adapters.close() });
    const putTimes = new Map<string, number>();
    recordPutTimes(adapters.s3, putTimes);
    await adapters.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    undo.push({ what: `delete bucket ${bucket}`, run: async () => say(`deleted ${await emptyAndDeleteBucket(adapters.s3, bucket)} objects and bucket ${bucket}`) });

    await controlPlane.upsertSource({ name: sources.postgres, engine: 'postgres', database: 'labs', connectionSecret: 'DANAU_SOURCE_LABS_URL', description: 'capture benchmark' }, 'bench');
    undo.push({
      what: 'drop the benchmark replication slot and publication',
      run: async () => {
        const admin = new pg.Client({ connectionString: labsUrl });
        await admin.connect();
        try {
          const name = `danau_${sources.postgres}`;
          for (let attempt = 0; ; attempt++) {
            try {
              await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [name]);
              break;
            } catch (err) {
              if (attempt >= 20) throw err;
              await sleep(500); // still active: a window was peeking
            }
          }
          await admin.query(`DROP PUBLICATION IF EXISTS ${name}`);
        } finally {
          await admin.end();
        }
      },
    });
    await controlPlane.upsertSource({ name: sources.mysql, engine: 'mysql', database: 'clinic', connectionSecret: 'DANAU_SOURCE_CLINIC_URL', description: 'capture benchmark' }, 'bench');
    const pgCatalog = new PostgresSource(labsUrl);
    const myCatalog = new MysqlSource(clinicUrl);
    try {
      for (const t of BENCH_TABLES) {
        const def = parseTableDefinition({ source: sources[t.engine], schema: t.schema, table: t.table, precombineField: 'updated_at', partitionField: t.partitionField });
        const found = await (t.engine === 'postgres' ? pgCatalog : myCatalog).describeTable(t.schema, t.table);
        if (!found) throw new Error(`${t.schema}.${t.table} does not exist: load the sample data first (danau sample load)`);
        const check = checkAgainstSource(def, t.engine, found);
        await controlPlane.recordTable(def, check.primaryKey, check.columns, 'bench');
      }
    } finally {
      await pgCatalog.close();
      await myCatalog.close();
    }

    load = new SteadyLoad(labsUrl, clinicUrl, tag);
    const steady = load;
    undo.push({ what: 'close the load connections', run: () => steady.close() });
    await steady.connect();
    if (!opts.keepRows) undo.push({ what: 'delete the benchmark rows', run: async () => say(`deleted benchmark rows ${JSON.stringify(await steady.deleteRows())}`) });
    say(`adding ${opts.loadRows} benchmark rows to each table (negative ids, marker ${steady.loadMarker})`);
    await steady.preload(opts.loadRows);

    say('starting the worker (bundling the workflow code takes a few seconds)');
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    undo.push({ what: 'close the worker connection', run: () => connection.close() });
    // Task queues of this process's own (testConfig's prefix): no other run takes its tasks.
    const workers = await createWorkers({ config, connection, adapters, queues: ['control', 'io'] });
    const workflowQueue = config.temporal.taskQueues.control;
    const running = Promise.all(workers.map((w) => w.run()));
    undo.push({
      what: 'stop the worker',
      run: async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await running;
      },
    });
    const client = await connectClient(config);
    undo.push({ what: 'close the client', run: () => client.connection.close() });

    // (a) Full load: one window per source, both at once, as a DMS task's first run.
    say('full load');
    const loadStart = wallClock();
    const loads = await Promise.all(
      (['postgres', 'mysql'] as const).map(async (engine) => {
        const source = sources[engine];
        const workflowId = `${WorkflowId.captureSource(source)}/load`;
        const started = wallClock();
        const handle = await client.workflow.start('captureSource', { taskQueue: workflowQueue, workflowId, args: [{ source, maxWindows: 1, windowSeconds: opts.window }] });
        const status = (await handle.result()) as CaptureStatus;
        const seconds = (wallClock() - started) / 1000;
        const [activity] = await activityIntervals(client, workflowId, handle.firstExecutionRunId);
        const rows = status.last?.loaded.reduce((n, l) => n + l.rows, 0) ?? 0;
        return { engine, rows, seconds, activitySeconds: activity ? (activity.completed - activity.started) / 1000 : NaN, loaded: status.last?.loaded ?? [] };
      }),
    );
    const loadSeconds = (wallClock() - loadStart) / 1000;
    const loadRows = loads.reduce((n, l) => n + l.rows, 0);

    // (b) Steady load while capture runs with short windows.
    const handles = {} as Record<Engine, WorkflowHandleWithFirstExecutionRunId>;
    for (const engine of ['postgres', 'mysql'] as const) {
      const source = sources[engine];
      handles[engine] = await client.workflow.start('captureSource', {
        taskQueue: workflowQueue,
        workflowId: `${WorkflowId.captureSource(source)}/steady`,
        args: [{ source, windowSeconds: opts.window }],
      });
      const h = handles[engine];
      undo.push({
        what: `cancel ${h.workflowId}`,
        run: async () => {
          await h.cancel().catch(() => undefined);
          await Promise.race([h.result().catch(() => undefined), sleep(30_000)]);
        },
      });
    }
    const windowsOf = async (engine: Engine) => ((await handles[engine].query<CaptureStatus>('status').catch(() => null))?.totals.windows ?? 0);
    for (const engine of ['postgres', 'mysql'] as const) {
      const deadline = Date.now() + 60_000;
      while ((await windowsOf(engine)) < 1) {
        if (Date.now() > deadline) throw new Error(`${handles[engine].workflowId}: no window completed within 60 s`);
        await sleep(200);
      }
    }

    say(`steady load: ${opts.rate} changes/s for ${opts.seconds} s, ${opts.window} s windows`);
    const cpuBefore = cpuTimes();
    const ownCpuBefore = process.cpuUsage();
    const loadAvgBefore = os.loadavg();
    const progress = setInterval(() => say(`  ${steady.commits.size} changes committed`), 10_000);
    let gen: { startedAt: number; endedAt: number };
    try {
      gen = await steady.run(opts.rate, opts.seconds);
    } finally {
      clearInterval(progress);
    }
    const cpuAfter = cpuTimes();
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const genSeconds = (gen.endedAt - gen.startedAt) / 1000;

    // Drain: a window that began after the last commit has completed for each source.
    say('waiting for the capture to take the last changes');
    for (const engine of ['postgres', 'mysql'] as const) {
      const target = (await windowsOf(engine)) + 2;
      const deadline = Date.now() + 180_000;
      while ((await windowsOf(engine)) < target) {
        if (Date.now() > deadline) throw new Error(`${handles[engine].workflowId}: did not catch up within 180 s of the end of the load`);
        if (interrupted) throw new Error('interrupted');
        await sleep(250);
      }
    }
    for (const engine of ['postgres', 'mysql'] as const) {
      await handles[engine].cancel();
      await handles[engine].result().catch(() => undefined);
    }
    const windows = {} as Record<Engine, ActivityInterval[]>;
    for (const engine of ['postgres', 'mysql'] as const) {
      windows[engine] = (await activityIntervals(client, handles[engine].workflowId, handles[engine].firstExecutionRunId)).filter((w) => w.started >= gen.startedAt);
    }

    // (c) Read back every raw file: match changes to commits, check the chain, measure latency.
    say('reading the raw files back');
    const listed = await listKeys(adapters.s3, bucket);
    const lastModified = new Map(listed.map((k) => [k.key, k.lastModified]));
    const { parquetReadObjects } = await import('hyparquet');
    const engineOf = Object.fromEntries(BENCH_TABLES.map((t) => [t.table, t.engine])) as Record<BenchTable, Engine>;
    const perTable = Object.fromEntries(BENCH_TABLES.map((t) => [t.table, { committed: 0, captured: 0, duplicated: 0, foreign: 0, loadedBench: 0 }])) as Record<
      BenchTable,
      { committed: number; captured: number; duplicated: number; foreign: number; loadedBench: number }
    >;
    for (const c of steady.commits.values()) perTable[c.table].committed++;
    const seen = new Set<string>();
    const latency: Record<Engine, number[]> = { postgres: [], mysql: [] };
    const latencyLastModified: number[] = [];
    const latencyServerTime: number[] = [];
    let lastObjectAt = 0;
    let unknownMarkers = 0;
    let wrongOp = 0;
    let filesRead = 0;
    let missingPutTime = 0;
    for (const spec of BENCH_TABLES) {
      const keys = listed.filter((k) => k.key.startsWith(`${spec.schema}/${spec.table}/`)).map((k) => parseRawKey(k.key)).sort(compareRawKeys);
      const infos: RawFileInfo[] = [];
      for (const k of keys) {
        const bytes = await getBytes(adapters.s3, bucket, k.key);
        infos.push(await readRawFileInfo(k.key, bytes));
        filesRead++;
        const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
        const columns = ['Op', spec.idColumn, spec.markerColumn, 'updated_at', ...(spec.table === 'patients' ? ['city'] : [])];
        const rows = (await parquetReadObjects({ file, columns })) as Record<string, unknown>[];
        if (k.kind === 'load') {
          perTable[spec.table].loadedBench += rows.filter((r) => r[spec.markerColumn] === steady.loadMarker).length;
          continue;
        }
        const objectAt = putTimes.get(k.key);
        if (objectAt === undefined) missingPutTime++;
        for (const r of rows) {
          const marker = r[spec.markerColumn];
          if (typeof marker !== 'string' || !marker.startsWith(steady.markerPrefix)) continue; // someone else's change
          const commit = steady.commits.get(marker);
          if (!commit || commit.table !== spec.table) {
            unknownMarkers++;
            continue;
          }
          // Someone else's change to a benchmark row carries the row's last marker: the sample
          // generator updates random patients (their city), renumbers rows, deletes some.
          if (r.Op === 'D' || String(r[spec.idColumn]) !== String(commit.id) || (spec.table === 'patients' && r.city !== BENCH_CITY)) {
            perTable[spec.table].foreign++;
            continue;
          }
          if (r.Op !== commit.op) wrongOp++;
          if (seen.has(marker)) {
            perTable[spec.table].duplicated++;
            continue;
          }
          seen.add(marker);
          perTable[spec.table].captured++;
          if (objectAt !== undefined) {
            latency[engineOf[spec.table]].push(objectAt - commit.committedAt);
            lastObjectAt = Math.max(lastObjectAt, objectAt);
          }
          const lm = lastModified.get(k.key);
          if (lm !== undefined && Number.isFinite(lm)) latencyLastModified.push(lm - commit.committedAt);
          if (objectAt !== undefined && r.updated_at instanceof Date) latencyServerTime.push(objectAt - r.updated_at.getTime());
        }
      }
      const continuity = checkContinuity(`${spec.schema}.${spec.table}`, infos);
      if (!continuity.ok) failures.push(continuity.message);
    }

    // Verdict.
    for (const t of BENCH_TABLES) {
      const c = perTable[t.table];
      if (c.captured !== c.committed) failures.push(`${t.table}: ${c.committed} changes committed, ${c.captured} captured (${c.committed - c.captured} lost)`);
      if (c.duplicated) failures.push(`${t.table}: ${c.duplicated} changes captured twice`);
      if (c.loadedBench !== opts.loadRows) failures.push(`${t.table}: the full load holds ${c.loadedBench} of the ${opts.loadRows} benchmark rows`);
    }
    if (unknownMarkers) failures.push(`${unknownMarkers} captured changes carry a marker of this run that no commit made`);
    if (wrongOp) failures.push(`${wrongOp} captured changes have the wrong Op`);
    if (missingPutTime) failures.push(`${missingPutTime} files were not written by this run's worker`);

    // Report.
    const committed = steady.commits.size;
    const captured = seen.size;
    const all = summary([...latency.postgres, ...latency.mysql]);
    const byEngine = { postgres: summary(latency.postgres), mysql: summary(latency.mysql) };
    const lm = summary(latencyLastModified);
    const server = summary(latencyServerTime);
    const commitRtt = summary([...steady.commits.values()].map((c) => c.committedAt - c.sentAt));
    const cpuBusy = cpuBefore && cpuAfter ? (100 * (cpuAfter.busy - cpuBefore.busy)) / (cpuAfter.total - cpuBefore.total) : NaN;
    const ownCpuPct = (100 * (ownCpu.user + ownCpu.system)) / 1000 / (genSeconds * 1000);
    const steadyRate = captured / ((lastObjectAt - gen.startedAt) / 1000);
    const cpus = os.cpus();
    const line = (s = '') => process.stdout.write(`${s}\n`);

    line(`Danau capture benchmark, ${new Date().toISOString()}: --seconds ${opts.seconds} --rate ${opts.rate} --window ${opts.window} --load-rows ${opts.loadRows}`);
    line(`machine: nproc ${os.availableParallelism()} (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`);
    line(`stack: Temporal namespace ${config.temporal.namespace} (task queues ${config.temporal.taskQueues.control}, ${config.temporal.taskQueues.io}), PostgreSQL labs, MariaDB clinic, S3 ${config.s3.endpoint ?? 'AWS'}; load average before ${loadAvgBefore.map((v) => v.toFixed(2)).join(' ')}`);
    line();
    line(`full load (both sources at once, ${opts.loadRows} benchmark rows added to each table):`);
    line(`  ${fmt(loadRows)} rows in ${loadSeconds.toFixed(2)} s = ${fmt(loadRows / loadSeconds)} rows/s`);
    for (const l of loads) {
      line(`  ${l.engine === 'postgres' ? 'PostgreSQL' : 'MariaDB   '} ${fmt(l.rows)} rows: workflow ${l.seconds.toFixed(2)} s, window activity ${l.activitySeconds.toFixed(2)} s = ${fmt(l.rows / l.activitySeconds)} rows/s (${l.loaded.map((t) => `${t.table.split('.').pop()} ${t.rows}`).join(', ')})`);
    }
    line();
    line(`steady load: target ${opts.rate} changes/s for ${opts.seconds} s (single-row INSERT 25% / UPDATE 75%, half per source), ${opts.window} s capture windows`);
    line(`  changes committed: ${fmt(committed)} in ${genSeconds.toFixed(1)} s = ${fmt(committed / genSeconds, 1)}/s; commit round trip p50 ${commitRtt.p50.toFixed(1)} ms, p99 ${commitRtt.p99.toFixed(1)} ms`);
    line(`  changes captured:  ${fmt(captured)} (${BENCH_TABLES.map((t) => `${t.table} ${perTable[t.table].captured}/${perTable[t.table].committed}`).join(', ')}; captured/committed)`);
    const foreign = BENCH_TABLES.reduce((n, t) => n + perTable[t.table].foreign, 0);
    if (foreign || steady.skipped) {
      line(`  (someone else changed benchmark rows meanwhile: ${foreign} such changes ignored, ${steady.skipped} updates found their row gone and were not counted)`);
    }
    line(`  rows/s captured (steady): ${fmt(steadyRate, 1)} (captured changes / first commit to last file written)`);
    line(`  commit-to-object latency, ms:   p50 ${ms(all.p50)}  p90 ${ms(all.p90)}  p99 ${ms(all.p99)}  max ${ms(all.max)}  (n=${all.n})`);
    line(`    PostgreSQL (pgoutput slot):   p50 ${ms(byEngine.postgres.p50)}  p90 ${ms(byEngine.postgres.p90)}  p99 ${ms(byEngine.postgres.p99)}  max ${ms(byEngine.postgres.max)}`);
    line(`    MariaDB (binlog):             p50 ${ms(byEngine.mysql.p50)}  p90 ${ms(byEngine.mysql.p90)}  p99 ${ms(byEngine.mysql.p99)}  max ${ms(byEngine.mysql.max)}`);
    line(`    cross-check, S3 LastModified instead of PutObject return:  p50 ${ms(lm.p50)}  p99 ${ms(lm.p99)}`);
    line(`    cross-check, source-side updated_at instead of commit ack: p50 ${ms(server.p50)}  p99 ${ms(server.p99)}`);
    for (const engine of ['postgres', 'mysql'] as const) {
      const w = windows[engine];
      const run = summary(w.map((x) => x.completed - x.started));
      const wait = summary(w.map((x) => x.started - x.scheduled));
      const span = w.length ? (w[w.length - 1]!.completed - w[0]!.scheduled) / 1000 : NaN;
      const busy = w.reduce((n, x) => n + (x.completed - x.started), 0) / 1000;
      line(
        `  ${engine === 'postgres' ? 'PostgreSQL' : 'MariaDB   '} windows: ${w.length}, activity p50 ${ms(run.p50)} ms max ${ms(run.max)} ms, schedule-to-start p50 ${ms(wait.p50)} ms; busy ${((100 * busy) / span).toFixed(0)}% of ${span.toFixed(1)} s`,
      );
    }
    line(`  CPU during the steady phase: machine ${cpuBusy.toFixed(0)}% busy (all cores), this process ${ownCpuPct.toFixed(0)}% of one core`);
    line();
    line('latency: from the moment the source acknowledged the COMMIT (client clock, after the statement returned) to the moment');
    line("the worker's PutObject of the file holding the change returned (recorded in this process by S3 client middleware);");
    line('every change is matched to its commit by a marker unique to it; all clocks are this machine\'s.');
    line();
    if (failures.length) {
      line(`FAILED: ${failures.length} problem(s):`);
      for (const f of failures) line(`  - ${f}`);
    } else {
      line(`OK: all ${fmt(committed)} committed changes captured exactly once; ${filesRead} files chain without gap or overlap`);
    }
    return failures.length ? 1 : 0;
  } catch (err) {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  } finally {
    load?.stop();
    for (const step of undo.reverse()) {
      try {
        await step.run();
      } catch (err) {
        say(`cleanup: could not ${step.what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
