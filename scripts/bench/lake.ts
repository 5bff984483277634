// The lake benchmark: time per batch and rows/second of Danau's lake upsert job
// (scripts/spark/lake_job.py upsert) beside Apache Hudi's own HoodieStreamer (ParquetDFSSource +
// AWSDmsAvroPayload) run on the same raw files, in the same session, against the real local stack.
//
// For each --sizes N it writes synthetic raw files in AWS DMS's Parquet format (lib/raw-zone/dms-file.ts)
// into a scratch bucket: a full load of N rows of an 8-column table, then N CDC changes (about 70%
// updates of existing keys, 20% inserts, 10% deletes; change sequences strictly increasing). Then, on
// fresh Hudi tables:
//   1. the full-load files: Danau's job (one batch), then HoodieStreamer (one run);
//   2. the CDC files, written only now, as DMS would: Danau's job, then HoodieStreamer (its checkpoint
//      is the newest file time it read, so it takes exactly the new files).
// Each run is one spark-submit through scripts/spark/submit.sh (HoodieStreamer through
// scripts/bench/hoodie_streamer.sh, which reuses submit.sh's setup), timed from start to exit: what a
// pipeline pays per batch. Also reported: the Spark application's own span (SparkContext start to
// stop, from its event log) and, for Danau, the job's `seconds` (inside run_upsert). At the end one
// Spark SQL query counts the rows (and sums a decimal column) of every table: Danau's, HoodieStreamer's
// and what the generator expects must agree. Exit 1 when a run failed or they differ.
//
// HoodieStreamer is taken from .danau/jars/hudi-utilities-slim-bundle_2.12-<hudi>.jar (or the
// non-slim hudi-utilities-bundle), or --streamer-jar; without one that part is skipped and says why.
// Logs (spark-submit output, Spark event logs, HoodieStreamer props files) go to .danau/logs/bench/.
//
// Without a HoodieStreamer jar (the Maven mirror here does not serve one) the comparison is the method
// of the Airflow pipeline Danau replaces instead: a plain Hudi datasource upsert with AWSDmsAvroPayload (scripts/bench/
// plain_hudi_upsert.py), on the same files, in the same engine, with the same small-batch settings.
// --index RECORD_INDEX gives both tables Hudi's record-level index (Danau's guard then reads only the
// file groups of the batch's keys): run the sizes 50000,500000,5000000 to see the cost follow the batch.
// The generator holds a size's rows in memory: 5,000,000 rows need NODE_OPTIONS=--max-old-space-size=14000
// (and the engine DANAU_SPARK_DRIVER_MEMORY=8g, given to scripts/stack/spark.sh restart).
//
//   npm run -s bench:lake -- [--sizes 10000,50000] [--cdc-changes N] [--engine warm|cold|both] [--index BLOOM|GLOBAL_BLOOM|RECORD_INDEX]
//                            [--table-type COPY_ON_WRITE|MERGE_ON_READ] [--streamer-jar PATH] [--keep]
import { seededRandom } from '../sample/generator';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { changeSeq } from '../../lib/capture/window';
import { tableKey } from '../../lib/common/temporal';
import { loadConfig, repoRoot, type DanauConfig } from '../../lib/config';
import type { TableRecord } from '../../lib/control-plane/store';
import { batchLocations, buildUpsertSpec, hudiTableName, lakeBasePath, lakeBatchId, type LakeUpsertResult, type RawFile } from '../../lib/lake/batches';
import { SparkSqlQueryEngine, type LakeTableRef } from '../../lib/lake/query';
import { encodeDmsParquet, type DmsFile, type RawChange, type SourceValue } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey, loadObjectKey } from '../../lib/raw-zone/keys';
import { readObject } from '../../lib/raw-zone/objects';
import { createS3Client } from '../../lib/s3';
import { LAKE_JOB_SCRIPT } from '../../lib/lake/job-client';
import { HUDI_INDEX_TYPES, type HudiIndexType } from '../../lib/lake/job-contract';
import { SparkConnectRunner } from '../../lib/spark/connect';
import { runLocalSparkJob } from '../../lib/spark/local';
import type { SparkJobOutcome, SparkJobRequest, SparkRunner } from '../../lib/spark/runner';
import type { LakeColumn } from '../../lib/tables/definition';

type TableType = TableRecord['hudiTableType'];

interface Options {
  sizes: number[];
  /** How many CDC changes the second batch has (default: as many as the table's rows). */
  cdcChanges: number | null;
  /** Where Danau's job runs: the stack's warm Spark Connect engine, or a spark-submit of its own (a cold start). */
  engines: ('warm' | 'cold')[];
  tableType: TableType;
  indexType: HudiIndexType;
  streamerJar: string | null;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '10000,50000' },
      'table-type': { type: 'string', default: 'COPY_ON_WRITE' },
      'streamer-jar': { type: 'string' },
      keep: { type: 'boolean', default: false },
      'cdc-changes': { type: 'string' },
      engine: { type: 'string', default: 'warm' },
      index: { type: 'string', default: 'BLOOM' },
    },
    strict: true,
  });
  const sizes = values.sizes.split(',').map((s) => {
    const n = Number(s.trim().replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 100 || n > 5_000_000) throw new Error(`--sizes: expected whole numbers from 100 to 5000000, got ${s}`);
    return n;
  });
  if (new Set(sizes).size !== sizes.length) throw new Error('--sizes: each size once');
  const tableType = values['table-type'].toUpperCase();
  if (tableType !== 'COPY_ON_WRITE' && tableType !== 'MERGE_ON_READ') throw new Error(`--table-type: COPY_ON_WRITE or MERGE_ON_READ, got ${values['table-type']}`);
  const cdcChanges = values['cdc-changes'] === undefined ? null : Number(values['cdc-changes']);
  if (cdcChanges !== null && (!Number.isInteger(cdcChanges) || cdcChanges < 1 || cdcChanges > 5_000_000)) throw new Error(`--cdc-changes: a whole number from 1 to 5000000, got ${values['cdc-changes']}`);
  const engines = values.engine === 'both' ? (['cold', 'warm'] as const) : values.engine === 'warm' || values.engine === 'cold' ? ([values.engine] as const) : null;
  if (!engines) throw new Error(`--engine: warm, cold or both, got ${values.engine}`);
  const indexType = HUDI_INDEX_TYPES.find((t) => t === values.index.toUpperCase());
  if (!indexType) throw new Error(`--index: one of ${HUDI_INDEX_TYPES.join(', ')}, got ${values.index}`);
  return { sizes, tableType, indexType, streamerJar: values['streamer-jar'] ?? null, keep: values.keep, cdcChanges, engines: [...engines] };
}

const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const wallClock = (): number => performance.timeOrigin + performance.now();
const fmt = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

// --- the synthetic table and its raw files -----------------------------------------------------

const SOURCE = 'danau';
const SCHEMA = 'bench';
const COLUMNS: LakeColumn[] = [
  { name: 'order_id', lakeName: 'order_id', sourceType: 'bigint', lakeType: 'bigint', nullable: false },
  { name: 'customer', lakeName: 'customer', sourceType: 'varchar(80)', lakeType: 'string', nullable: false },
  { name: 'status', lakeName: 'status', sourceType: 'varchar(16)', lakeType: 'string', nullable: false },
  { name: 'amount', lakeName: 'amount', sourceType: 'numeric(12,2)', lakeType: 'decimal(12,2)', nullable: false },
  { name: 'is_priority', lakeName: 'is_priority', sourceType: 'boolean', lakeType: 'boolean', nullable: false },
  { name: 'order_date', lakeName: 'order_date', sourceType: 'date', lakeType: 'date', nullable: false },
  { name: 'note', lakeName: 'note', sourceType: 'text', lakeType: 'string', nullable: true },
  { name: 'updated_at', lakeName: 'updated_at', sourceType: 'timestamp', lakeType: 'timestamp', nullable: false },
];
const PRIMARY_KEY = 'order_id';
// The partition column never changes for a key, so a non-global index finds every key in both engines.
const PARTITION_FIELD = 'order_date';
const PARTITION_DAYS = 30;
const FIRST_ORDER_DAY = Date.UTC(2025, 11, 6);
const LOADED_AT = Date.UTC(2026, 0, 5, 0, 0, 0);
const CDC_START = Date.UTC(2026, 0, 5, 1, 0, 0);
const CDC_SPACING_MS = 10;
const LOAD_ROWS_PER_FILE = 20_000; // as the capture's full load writes them
const CDC_CHANGES_PER_FILE = 10_000;
const MIX = { update: 0.7, insert: 0.2 }; // the rest are deletes

const FIRST_NAMES = ['Adi', 'Budi', 'Citra', 'Dewi', 'Eko', 'Fitri', 'Gita', 'Hadi', 'Indah', 'Joko', 'Kartika', 'Lestari', 'Made', 'Nur', 'Putri', 'Rina', 'Sari', 'Tono', 'Wati', 'Yusuf'];
const LAST_NAMES = ['Santoso', 'Wijaya', 'Saputra', 'Hidayat', 'Kusuma', 'Pratama', 'Halim', 'Nugroho', 'Siregar', 'Lubis', 'Gunawan', 'Setiawan'];
const STATUSES = ['new', 'paid', 'packed', 'shipped', 'delivered', 'cancelled'];
const WORDS = ['call', 'before', 'delivery', 'fragile', 'leave', 'at', 'gate', 'gift', 'wrap', 'invoice', 'needed', 'urgent', 'reorder', 'partial'];

/** The sample generator's seeded PRNG: the same size always makes the same files. */
const prng = seededRandom;

/** `yyyy-MM-dd HH:mm:ss.ffffff` (UTC), as DMS writes its timestamp column. */
const sqlTimestamp = (ms: number) => {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
};
/** A change sequence as the capture makes them: 16 hex digits of position, 8 of index. */
const position = (n: number) => n.toString(16).toUpperCase().padStart(16, '0');

interface OrderRow {
  id: number;
  customer: string;
  status: string;
  cents: number;
  priority: boolean;
  orderDate: string;
  note: string | null;
  updatedAt: string;
}

const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

function rowValues(r: OrderRow): Record<string, SourceValue> {
  return {
    order_id: String(r.id),
    customer: r.customer,
    status: r.status,
    amount: money(r.cents),
    is_priority: r.priority ? 'true' : 'false',
    order_date: r.orderDate,
    note: r.note,
    updated_at: r.updatedAt,
  };
}

interface RawFileSet {
  files: { key: string; file: DmsFile }[];
  rows: number;
}

interface Dataset {
  table: string; // raw-zone table name, e.g. orders_10000
  load: RawFileSet;
  cdc: RawFileSet & { inserts: number; updates: number; deletes: number };
  expectedRows: number;
  expectedAmountCents: bigint;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function generate(tableName: string, size: number, changes: number = size): Dataset {
  const rand = prng(size * 2654435761);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const dmsTable = tableKey({ source: SOURCE, schema: SCHEMA, table: tableName });
  const live = new Map<number, OrderRow>();
  const ids: number[] = [];
  const slot = new Map<number, number>();
  const add = (r: OrderRow) => {
    slot.set(r.id, ids.length);
    ids.push(r.id);
    live.set(r.id, r);
  };
  const remove = (id: number) => {
    const i = slot.get(id)!;
    const last = ids.pop()!;
    if (last !== id) {
      ids[i] = last;
      slot.set(last, i);
    }
    slot.delete(id);
    live.delete(id);
  };
  const note = () => (rand() < 0.3 ? null : Array.from({ length: 2 + Math.floor(rand() * 5) }, () => pick(WORDS)).join(' '));
  const newRow = (id: number, updatedAt: string): OrderRow => {
    const day = FIRST_ORDER_DAY + Math.floor(rand() * PARTITION_DAYS) * 86_400_000;
    return {
      id,
      customer: `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`,
      status: pick(STATUSES),
      cents: 100 + Math.floor(rand() * 9_999_900),
      priority: rand() < 0.1,
      orderDate: new Date(day).toISOString().slice(0, 10),
      note: note(),
      updatedAt,
    };
  };

  // The full load: every row an insert, all stamped with the load's time.
  const loadChanges: RawChange[] = [];
  for (let id = 1; id <= size; id++) {
    const r = newRow(id, sqlTimestamp(LOADED_AT - Math.floor(rand() * 86_400_000)));
    add(r);
    loadChanges.push({ op: 'I', commitTimestamp: sqlTimestamp(LOADED_AT), changeSeq: changeSeq(position(1), id - 1), values: rowValues(r) });
  }
  let previous = '';
  const loadFiles = chunk(loadChanges, LOAD_ROWS_PER_FILE).map((changes, i) => {
    const file: DmsFile = { table: dmsTable, columns: COLUMNS, changes, previousChangeSeq: previous };
    previous = changes[changes.length - 1]!.changeSeq;
    return { key: loadObjectKey({ source: SOURCE, schema: SCHEMA, table: tableName }, i + 1), file };
  });

  // CDC: one change per transaction, each after the one before.
  const cdcChanges: RawChange[] = [];
  let nextId = size + 1;
  const counts = { inserts: 0, updates: 0, deletes: 0 };
  for (let k = 0; k < changes; k++) {
    const at = sqlTimestamp(CDC_START + k * CDC_SPACING_MS);
    const seq = changeSeq(position(2 + k), 0);
    const roll = rand();
    if (roll < MIX.update && ids.length > 0) {
      const old = live.get(pick(ids))!;
      const r: OrderRow = { ...old, status: pick(STATUSES), cents: 100 + Math.floor(rand() * 9_999_900), priority: rand() < 0.1, note: note(), updatedAt: at };
      live.set(r.id, r);
      cdcChanges.push({ op: 'U', commitTimestamp: at, changeSeq: seq, values: rowValues(r) });
      counts.updates++;
    } else if (roll < MIX.update + MIX.insert || ids.length === 0) {
      const r = newRow(nextId++, at);
      add(r);
      cdcChanges.push({ op: 'I', commitTimestamp: at, changeSeq: seq, values: rowValues(r) });
      counts.inserts++;
    } else {
      const old = live.get(pick(ids))!;
      remove(old.id);
      cdcChanges.push({ op: 'D', commitTimestamp: at, changeSeq: seq, values: rowValues(old) }); // DMS: the row before the delete
      counts.deletes++;
    }
  }
  const cdcFiles = chunk(cdcChanges, CDC_CHANGES_PER_FILE).map((changes) => {
    const file: DmsFile = { table: dmsTable, columns: COLUMNS, changes, previousChangeSeq: previous };
    previous = changes[changes.length - 1]!.changeSeq;
    return { key: cdcObjectKey({ source: SOURCE, schema: SCHEMA, table: tableName }, changes[0]!.commitTimestamp, changes[0]!.changeSeq), file };
  });

  let cents = 0n;
  for (const r of live.values()) cents += BigInt(r.cents);
  return {
    table: tableName,
    load: { files: loadFiles, rows: loadChanges.length },
    cdc: { files: cdcFiles, rows: cdcChanges.length, ...counts },
    expectedRows: live.size,
    expectedAmountCents: cents,
  };
}

async function upload(s3: S3Client, bucket: string, set: RawFileSet): Promise<RawFile[]> {
  const out: RawFile[] = [];
  for (const f of set.files) {
    const bytes = await encodeDmsParquet(f.file);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: f.key, Body: bytes }));
    out.push({ key: f.key, size: bytes.byteLength });
  }
  return out;
}

function benchTable(tableName: string, tableType: TableType, indexType: HudiIndexType): TableRecord {
  return {
    tableId: 0,
    sourceName: SOURCE,
    schemaName: SCHEMA,
    tableName,
    primaryKey: [PRIMARY_KEY],
    precombineField: 'updated_at',
    partitionField: PARTITION_FIELD,
    hudiTableType: tableType,
    cleanerCommitsRetained: 15,
    hudiIndexType: indexType,
    compactionDeltaCommits: 5,
    archiveLevel: 'day',
    archiveAfterDays: 30,
    freshnessSlaMinutes: 15,
    schedule: '*/5 * * * *',
    enabled: true,
    pausedReason: null,
    columns: COLUMNS,
    createdAt: '',
    updatedAt: '',
  };
}

// --- runs ----------------------------------------------------------------------------------------

interface RunFigures {
  ok: boolean;
  error?: string;
  rows: number;
  wallSeconds: number;
  /** SparkContext start to stop, from the Spark event log. */
  appSeconds: number | null;
  /** lake_job.py's own `seconds` (Danau only). */
  jobSeconds: number | null;
  contention: Contention;
  logFile: string;
}

/** The Spark application's span from its event log (uncompressed JSON lines), or null. */
function appSeconds(eventLog: string | null): number | null {
  if (!eventLog) return null;
  let start: number | null = null;
  let end: number | null = null;
  for (const line of readFileSync(eventLog, 'utf8').split('\n')) {
    const head = line.slice(0, 64);
    if (head.includes('"SparkListenerApplicationStart"')) start = (JSON.parse(line) as { Timestamp: number }).Timestamp;
    else if (head.includes('"SparkListenerApplicationEnd"')) end = (JSON.parse(line) as { Timestamp: number }).Timestamp;
  }
  return start !== null && end !== null ? (end - start) / 1000 : null;
}

/** The first line of a log that names an exception, for a short reason. */
function firstError(logFile: string): string | null {
  try {
    const lines = readFileSync(logFile, 'utf8').split('\n');
    const hit = lines.find((l) => /(Exception|Error)(:|\s|$)/.test(l) && !/^\s+at /.test(l));
    return hit ? hit.trim().slice(0, 400) : null;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of all CPUs, from /proc/stat (null where there is none). */
function cpuTimes(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
  } catch {
    return null;
  }
}

interface Contention {
  /** CPU used by processes outside the run's process group, the S3 server and this one, as a share of the whole machine. */
  otherCpuPct: number | null;
  /** CPU used by the local S3 server (serving this run, mostly), as a share of the whole machine. */
  s3CpuPct: number | null;
  /** Other spark-submit JVMs seen while the run went on (the stack's worker, tests). */
  otherSparkJobs: number;
}

/** A process's user + system CPU time in jiffies (null when it is gone). */
function processCpu(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/**
 * Watches the machine while one run goes on: each second it reads /proc for the run's own process
 * group's CPU time and for spark-submit JVMs of other groups. Two cores are easily shared, so a
 * figure taken while something else ran is marked as such. The local S3 server's CPU (it serves the
 * run) and this process's are counted apart from the rest.
 */
class ContentionSampler {
  private readonly ownCpu = new Map<number, number>();
  private readonly others = new Set<number>();
  private readonly start = cpuTimes();
  private readonly s3Start: number | null;
  private readonly selfStart = process.cpuUsage();
  private readonly timer: NodeJS.Timeout;
  group: number | undefined;

  constructor(private readonly s3Pid: number | null) {
    this.s3Start = s3Pid ? processCpu(s3Pid) : null;
    this.timer = setInterval(() => this.sample(), 1000);
  }

  private sample(): void {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return;
    }
    for (const p of pids) {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[2] pgrp, f[11] utime, f[12] stime
        const pid = Number(p);
        if (this.group !== undefined && Number(f[2]) === this.group) {
          this.ownCpu.set(pid, Math.max(this.ownCpu.get(pid) ?? 0, Number(f[11]) + Number(f[12])));
        } else if (stat.includes('(java)') && !this.others.has(pid) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('org.apache.spark.deploy.SparkSubmit')) {
          this.others.add(pid);
        }
      } catch {
        // gone meanwhile
      }
    }
  }

  stop(): Contention {
    clearInterval(this.timer);
    const end = cpuTimes();
    const s3End = this.s3Pid ? processCpu(this.s3Pid) : null;
    const self = process.cpuUsage(this.selfStart);
    let otherCpuPct: number | null = null;
    let s3CpuPct: number | null = null;
    if (this.start && end && end.total > this.start.total) {
      const total = end.total - this.start.total;
      const own = [...this.ownCpu.values()].reduce((a, b) => a + b, 0);
      const s3 = this.s3Start !== null && s3End !== null ? s3End - this.s3Start : 0;
      const selfJiffies = ((self.user + self.system) / 1e6) * 100; // USER_HZ is 100 on Linux
      s3CpuPct = this.s3Start !== null && s3End !== null ? (100 * s3) / total : null;
      otherCpuPct = Math.max(0, (100 * (end.busy - this.start.busy - own - s3 - selfJiffies)) / total);
    }
    return { otherCpuPct, s3CpuPct, otherSparkJobs: this.others.size };
  }
}

const PLAIN_UPSERT_SCRIPT = 'scripts/bench/plain_hudi_upsert.py';

class Bench {
  readonly logDir: string;
  readonly eventDir: string;
  readonly env: Record<string, string | undefined>;
  readonly stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  private readonly abort = new AbortController();
  /** The local S3 server's pid, from the stack's pid file (scripts/stack/lib.sh record_pid). */
  private readonly s3Pid: number | null;

  constructor(
    readonly config: DanauConfig,
    readonly s3: S3Client,
    readonly bucket: string,
  ) {
    this.logDir = path.join(config.home, 'logs', 'bench');
    this.eventDir = path.join(this.logDir, 'events');
    mkdirSync(this.eventDir, { recursive: true });
    // Event logs of the benchmark's own runs, uncompressed, so their application span can be read.
    const extra = `spark.eventLog.dir=file://${this.eventDir} spark.eventLog.compress=false`;
    const conf = config.environment.DANAU_SPARK_CONF;
    this.env = { ...config.environment, DANAU_SPARK_CONF: conf ? `${conf} ${extra}` : extra };
    let s3Pid: number | null = null;
    try {
      s3Pid = Number(readFileSync(path.join(config.home, 'run', 's3.pid'), 'utf8').trim().split(/\s+/)[0]) || null;
    } catch {
      // no local S3 server of the stack's (AWS, or started otherwise)
    }
    this.s3Pid = s3Pid;
  }

  sampler(): ContentionSampler {
    return new ContentionSampler(this.s3Pid);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  stop(): void {
    this.abort.abort();
  }

  logFile(name: string): string {
    return path.join(this.logDir, `${this.stamp}-${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.log`);
  }

  private eventLogs(): Set<string> {
    return new Set(readdirSync(this.eventDir));
  }

  private newEventLog(before: Set<string>): string | null {
    const fresh = readdirSync(this.eventDir)
      .filter((f) => !before.has(f))
      .map((f) => path.join(this.eventDir, f));
    fresh.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
    return fresh.at(-1) ?? null;
  }

  /** The batch's upsert spec, written where the job reads it; its locations. */
  private async writeSpec(table: TableRecord, batchId: string, files: RawFile[]): Promise<ReturnType<typeof batchLocations>> {
    const spec = buildUpsertSpec(this.config, table, batchId, files);
    const at = batchLocations(this.config, batchId);
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: at.specKey, Body: JSON.stringify(spec, null, 2), ContentType: 'application/json' }));
    return at;
  }

  /**
   * One Python Spark job: warm, as a client of the stack's engine (what the worker does, no JVM of
   * its own); cold, as a spark-submit of its own. Returns why it failed, or null.
   */
  private async runJob(script: string, args: string[], name: string, logFile: string, engine: 'warm' | 'cold', sampler: ContentionSampler): Promise<string | null> {
    try {
      if (engine === 'warm') {
        if (!this.config.sparkConnectUrl) throw new Error('DANAU_SPARK_CONNECT_URL is not set: no warm engine to run in (scripts/stack/spark.sh start)');
        await new SparkConnectRunner({ url: this.config.sparkConnectUrl, home: this.config.home, env: this.env }).run({ script, args, name, signal: this.signal });
      } else {
        await runLocalSparkJob({ script, args, logFile, env: this.env, signal: this.signal, onStart: (pid) => (sampler.group = pid) });
      }
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  /** One Danau lake batch, as the upsertLakeTable activity runs it (spec in S3, lake_job.py upsert). */
  async danau(table: TableRecord, files: RawFile[], label: string, rows: number, engine: 'warm' | 'cold'): Promise<RunFigures> {
    const at = await this.writeSpec(table, lakeBatchId(table, files), files);
    const logFile = this.logFile(`danau-${table.tableName}-${label}`);
    const before = this.eventLogs();
    const sampler = this.sampler();
    const started = wallClock();
    const failure = await this.runJob(LAKE_JOB_SCRIPT, ['upsert', '--spec', `s3://${this.bucket}/${at.specKey}`], `bench-${table.tableName}-${label}-${this.stamp}`, logFile, engine, sampler);
    const wallSeconds = (wallClock() - started) / 1000;
    const contention = sampler.stop();
    const result = await readObject(this.s3, this.bucket, at.resultKey).then(
      (b) => JSON.parse(Buffer.from(b).toString('utf8')) as LakeUpsertResult | { ok: false; error: string },
      () => null,
    );
    const figures: RunFigures = { ok: false, rows, wallSeconds, appSeconds: appSeconds(this.newEventLog(before)), jobSeconds: result?.ok ? result.seconds : null, contention, logFile };
    if (failure || !result?.ok) return { ...figures, error: `${(result && !result.ok ? result.error : null) ?? failure ?? 'no result object'} (log: ${logFile})` };
    const odd = [
      result.rowsRead !== rows && `read ${result.rowsRead} rows, not ${rows}`,
      result.rowsQuarantined > 0 && `${result.rowsQuarantined} rows quarantined`,
      result.rowsStale > 0 && `${result.rowsStale} rows stale`,
      result.alreadyApplied && 'the batch was found applied already',
    ].filter(Boolean);
    if (odd.length) return { ...figures, error: `lake job: ${odd.join(', ')} (log: ${logFile})` };
    return { ...figures, ok: true };
  }

  /**
   * The lake step of the Airflow pipeline Danau replaces, on the same files: a plain Hudi datasource
   * upsert with AWSDmsAvroPayload (scripts/bench/plain_hudi_upsert.py), shaped and tuned as Danau's
   * job is, in the same engine.
   */
  async plain(table: TableRecord, files: RawFile[], basePath: string, label: string, rows: number, engine: 'warm' | 'cold'): Promise<RunFigures> {
    const at = await this.writeSpec(table, `plain-${lakeBatchId(table, files)}`, files);
    const logFile = this.logFile(`plain-${table.tableName}-${label}`);
    const sampler = this.sampler();
    const started = wallClock();
    const failure = await this.runJob(PLAIN_UPSERT_SCRIPT, ['--spec', `s3://${this.bucket}/${at.specKey}`, '--base-path', basePath, '--rows', String(rows)], `bench-plain-${table.tableName}-${label}-${this.stamp}`, logFile, engine, sampler);
    const wallSeconds = (wallClock() - started) / 1000;
    const figures: RunFigures = { ok: failure === null, rows, wallSeconds, appSeconds: null, jobSeconds: null, contention: sampler.stop(), logFile };
    return failure ? { ...figures, error: `plain Hudi upsert: ${failure} (log: ${logFile})` } : figures;
  }

  /** One HoodieStreamer run (run-once mode) over the raw files under `root` newer than its checkpoint. */
  async streamer(jar: string, opts: { table: TableRecord; root: string; basePath: string; targetTable: string }, label: string, rows: number): Promise<RunFigures> {
    const { table } = opts;
    const retained = table.cleanerCommitsRetained;
    const props = [
      `# HoodieStreamer properties written by scripts/bench/lake.ts (${label})`,
      `hoodie.streamer.source.dfs.root=${opts.root}`,
      `hoodie.datasource.write.recordkey.field=${PRIMARY_KEY}`,
      // The same daily, Hive-style partition path as Danau's job (dt=yyyy-MM-dd).
      'hoodie.datasource.write.partitionpath.field=dt',
      'hoodie.datasource.write.hive_style_partitioning=true',
      'hoodie.datasource.write.keygenerator.class=org.apache.hudi.keygen.SimpleKeyGenerator',
      `hoodie.streamer.transformer.sql=SELECT *, date_format(${PARTITION_FIELD}, 'yyyy-MM-dd') AS dt FROM <SRC>`,
      // The rest as lake_job.py's hudi_options sets them.
      `hoodie.index.type=${table.hudiIndexType}`,
      'hoodie.bloom.index.update.partition.path=true',
      'hoodie.cleaner.policy=KEEP_LATEST_COMMITS',
      `hoodie.cleaner.commits.retained=${retained}`,
      'hoodie.clean.automatic=true',
      `hoodie.keep.min.commits=${retained + 5}`,
      `hoodie.keep.max.commits=${retained + 10}`,
      'hoodie.upsert.shuffle.parallelism=4',
      'hoodie.insert.shuffle.parallelism=4',
      'hoodie.delete.shuffle.parallelism=4',
      ...(table.hudiTableType === 'MERGE_ON_READ' ? [`hoodie.compact.inline.max.delta.commits=${table.compactionDeltaCommits}`] : []),
    ];
    const logFile = this.logFile(`streamer-${table.tableName}-${label}`);
    const propsFile = logFile.replace(/\.log$/, '.properties');
    writeFileSync(propsFile, `${props.join('\n')}\n`);
    const args = [
      path.join(repoRoot, 'scripts', 'bench', 'hoodie_streamer.sh'),
      jar,
      '--props',
      `file://${propsFile}`,
      '--source-class',
      'org.apache.hudi.utilities.sources.ParquetDFSSource',
      '--payload-class',
      'org.apache.hudi.common.model.AWSDmsAvroPayload',
      // AWSDmsTransformer gives full-load files without Op an `Op` column; the SQL adds `dt`.
      '--transformer-class',
      'org.apache.hudi.utilities.transform.AWSDmsTransformer,org.apache.hudi.utilities.transform.SqlQueryBasedTransformer',
      '--source-ordering-field',
      'dms_change_seq',
      '--table-type',
      table.hudiTableType,
      '--target-base-path',
      opts.basePath,
      '--target-table',
      opts.targetTable,
      '--op',
      'UPSERT',
    ];
    const before = this.eventLogs();
    const sampler = this.sampler();
    const started = wallClock();
    const code = await new Promise<number | string>((resolve) => {
      const out = openSync(logFile, 'a');
      const child = spawn('bash', args, { cwd: repoRoot, env: this.env, detached: true, stdio: ['ignore', out, out] });
      closeSync(out);
      sampler.group = child.pid;
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      };
      this.signal.addEventListener('abort', kill, { once: true });
      child.on('error', (err) => resolve(`could not start: ${err.message}`));
      child.on('close', (c, sig) => {
        this.signal.removeEventListener('abort', kill);
        resolve(c ?? `killed by ${sig}`);
      });
    });
    const wallSeconds = (wallClock() - started) / 1000;
    const contention = sampler.stop();
    const figures: RunFigures = { ok: code === 0, rows, wallSeconds, appSeconds: appSeconds(this.newEventLog(before)), jobSeconds: null, contention, logFile };
    if (code !== 0) figures.error = `HoodieStreamer exited with ${code}: ${firstError(logFile) ?? 'see the log'} (log: ${logFile})`;
    return figures;
  }
}

/** SparkRunner for the verification query: lake_job.py through submit.sh, logged under logs/bench. */
class BenchRunner implements SparkRunner {
  readonly kind = 'local';
  constructor(private readonly bench: Bench) {}
  async run(request: SparkJobRequest): Promise<SparkJobOutcome> {
    const logFile = this.bench.logFile(request.name);
    const r = await runLocalSparkJob({ script: request.script, args: request.args, logFile, env: this.bench.env, signal: request.signal ?? this.bench.signal });
    return { runner: 'local', attached: false, elapsedMs: r.elapsedMs, logLocation: logFile };
  }
}

// --- the stack and its versions ------------------------------------------------------------------

interface Versions {
  pyspark: string;
  hudi: string;
  hadoopAws: string;
  awsSdk: string;
  java: string;
  jarsDir: string;
  hudiBundle: string;
  driverMemory: string;
  fastStart: string;
}

function stackVersions(env: Record<string, string | undefined>): Versions {
  const script = [
    'source scripts/stack/spark.sh',
    'printf "%s\\n" "$PYSPARK_VERSION" "$HUDI_VERSION" "$HADOOP_AWS_VERSION" "$AWS_SDK_BUNDLE_VERSION" "$(java_version || echo unknown)" "$SPARK_JARS_DIR" "$(jar_path "${SPARK_JAR_COORDS[0]}")"',
  ].join('\n');
  const r = spawnSync('bash', ['-c', script], { cwd: repoRoot, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not read the Spark pins from scripts/stack/spark.sh: ${r.stderr.trim()}`);
  const [pyspark = '?', hudi = '?', hadoopAws = '?', awsSdk = '?', java = '?', jarsDir = '?', hudiBundle = '?'] = r.stdout.trim().split('\n');
  return { pyspark, hudi, hadoopAws, awsSdk, java, jarsDir, hudiBundle, driverMemory: env.DANAU_SPARK_DRIVER_MEMORY ?? '4g', fastStart: env.DANAU_SPARK_FAST_START ?? 'true' };
}

/** A jar's Implementation-Version, from its manifest (null if unzip is missing or it has none). */
function jarVersion(jar: string): string | null {
  const r = spawnSync('unzip', ['-p', jar, 'META-INF/MANIFEST.MF'], { encoding: 'utf8' });
  return r.status === 0 ? (/^Implementation-Version:\s*(\S+)/m.exec(r.stdout)?.[1] ?? null) : null;
}

/** The HoodieStreamer jar to use, or why there is none. */
function findStreamerJar(opts: Options, v: Versions): { jar: string } | { skipped: string } {
  if (opts.streamerJar) {
    const jar = path.resolve(opts.streamerJar);
    return existsSync(jar) ? { jar } : { skipped: `--streamer-jar ${opts.streamerJar}: no such file` };
  }
  const names = [`hudi-utilities-slim-bundle_2.12-${v.hudi}.jar`, `hudi-utilities-bundle_2.12-${v.hudi}.jar`];
  for (const n of names) {
    const jar = path.join(v.jarsDir, n);
    if (existsSync(jar) && statSync(jar).size > 0) return { jar };
  }
  return {
    skipped:
      `no ${names.join(' or ')} in ${v.jarsDir}; scripts/stack/spark.sh install does not fetch it ` +
      `(mvn org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy -Dartifact=org.apache.hudi:hudi-utilities-slim-bundle_2.12:${v.hudi} -DoutputDirectory=${v.jarsDir} ` +
      'would, where the Maven repository serves it), or pass --streamer-jar PATH',
  };
}

// --- S3 housekeeping -------------------------------------------------------------------------------

async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    deleted += keys.length;
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  return deleted;
}

// --- main ------------------------------------------------------------------------------------------

interface SizeResult {
  size: number;
  engine: 'warm' | 'cold';
  data: Dataset;
  generateSeconds: number;
  danau: { load?: RunFigures; cdc?: RunFigures };
  streamer: { load?: RunFigures; cdc?: RunFigures };
  danauRef: LakeTableRef;
  streamerRef: LakeTableRef;
  counts: { danau?: { n: number; amount: string }; streamer?: { n: number; amount: string } };
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const bucket = `danau-bench-lake-${randomBytes(4).toString('hex')}`;
  // Raw files and Hudi tables in buckets of their own, as the platform keeps them (lib/config).
  const lakeBucket = `${bucket}-lake`;
  const config = loadConfig({ ...process.env, DANAU_RAW_BUCKET: bucket, DANAU_PROCESSED_BUCKET: lakeBucket });
  const s3 = createS3Client(config);
  const bench = new Bench(config, s3, lakeBucket);
  const versions = stackVersions(bench.env);
  const found = findStreamerJar(opts, versions);
  const streamerJar = 'jar' in found ? found.jar : null;
  const streamerSkipped = 'skipped' in found ? found.skipped : null;
  // Without HoodieStreamer the comparison is what the replaced pipeline ran: a plain Hudi datasource upsert.
  const baselineName = streamerJar ? 'HoodieStreamer' : 'plain Hudi upsert';
  const loadAvgBefore = os.loadavg();
  const failures: string[] = [];
  const results: SizeResult[] = [];

  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('interrupted: stopping the running job and cleaning up (Ctrl-C again to quit at once)');
    bench.stop();
  });

  const undo: { what: string; run: () => Promise<unknown> }[] = [];
  try {
    say(`scratch bucket ${bucket}; logs in ${bench.logDir}`);
    if (streamerSkipped) say(`HoodieStreamer will be skipped (${streamerSkipped}); the comparison is a plain Hudi datasource upsert`);
    for (const b of [bucket, lakeBucket]) {
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      if (!opts.keep) undo.push({ what: `delete bucket ${b}`, run: async () => say(`deleted ${await emptyAndDeleteBucket(s3, b)} objects and bucket ${b}`) });
    }

    for (const [size, engine] of opts.sizes.flatMap((n) => opts.engines.map((e) => [n, e] as const))) {
      if (interrupted) throw new Error('interrupted');
      const tableName = `orders_${size}_${engine}`;
      const table = benchTable(tableName, opts.tableType, opts.indexType);
      const genStart = wallClock();
      const data = generate(tableName, size, opts.cdcChanges ?? size);
      const baselineFolder = streamerJar ? 'hoodie_streamer' : 'plain_hudi';
      const streamerTarget = { table, root: `s3://${bucket}/${SCHEMA}/${tableName}`, basePath: `s3://${lakeBucket}/${baselineFolder}/${SCHEMA}/${tableName}`, targetTable: `${streamerJar ? 'streamer' : 'plain'}_${SCHEMA}_${tableName}` };
      const r: SizeResult = {
        size,
        engine,
        data,
        generateSeconds: 0,
        danau: {},
        streamer: {},
        danauRef: { name: hudiTableName(table), basePath: lakeBasePath(config, table), tableType: opts.tableType },
        streamerRef: { name: streamerTarget.targetTable, basePath: streamerTarget.basePath, tableType: opts.tableType },
        counts: {},
      };
      results.push(r);

      const loadFiles = await upload(s3, bucket, data.load);
      r.generateSeconds = (wallClock() - genStart) / 1000;
      say(`size ${fmt(size)}: ${loadFiles.length} full-load file(s) written; ${data.cdc.files.length} CDC file(s) to follow (generated and encoded in ${r.generateSeconds.toFixed(1)} s)`);

      const phase = async (label: 'load' | 'cdc', files: RawFile[], rows: number) => {
        if (label === 'load' || r.danau.load?.ok) {
          say(`size ${fmt(size)} ${label}: Danau lake job`);
          const d = await bench.danau(table, files, label, rows, engine);
          r.danau[label] = d;
          say(`  ${d.ok ? 'done' : 'FAILED'} in ${d.wallSeconds.toFixed(1)} s${d.error ? `: ${d.error}` : ''}`);
          if (!d.ok) failures.push(`size ${size} ${label}: Danau: ${d.error}`);
        }
        if (label === 'load' || r.streamer.load?.ok) {
          say(`size ${fmt(size)} ${label}: ${baselineName}`);
          const h = streamerJar ? await bench.streamer(streamerJar, streamerTarget, label, rows) : await bench.plain(table, files, streamerTarget.basePath, label, rows, engine);
          r.streamer[label] = h;
          say(`  ${h.ok ? 'done' : 'FAILED'} in ${h.wallSeconds.toFixed(1)} s${h.error ? `: ${h.error}` : ''}`);
          if (!h.ok) failures.push(`size ${size} ${label}: ${h.error}`);
        }
      };
      await phase('load', loadFiles, data.load.rows);
      if (interrupted) throw new Error('interrupted');
      // The CDC files appear only now, after the full load was applied, as DMS writes them.
      const cdcFiles = await upload(s3, bucket, data.cdc);
      await phase('cdc', cdcFiles, data.cdc.rows);
    }

    // One query over every table that was written: rows and the sum of a decimal column.
    const tables: { ref: LakeTableRef; result: SizeResult; engine: 'danau' | 'streamer' }[] = [];
    for (const r of results) {
      if (r.danau.load?.ok && r.danau.cdc?.ok) tables.push({ ref: r.danauRef, result: r, engine: 'danau' });
      if (r.streamer.load?.ok && r.streamer.cdc?.ok) tables.push({ ref: r.streamerRef, result: r, engine: 'streamer' });
    }
    if (tables.length > 0 && !interrupted) {
      say('counting the rows of every table (one Spark SQL query)');
      const engine = new SparkSqlQueryEngine(new BenchRunner(bench), s3, config);
      // lake_job.py names a MERGE_ON_READ table's snapshot view <name>_rt (as Hive sync does in Glue).
      const view = (ref: LakeTableRef) => (ref.tableType === 'MERGE_ON_READ' ? `${ref.name}_rt` : ref.name);
      const sql = tables.map((t) => `SELECT '${t.ref.name}' AS name, count(*) AS n, CAST(sum(amount) AS STRING) AS amount FROM ${view(t.ref)}`).join(' UNION ALL ');
      const q = await engine.query(
        tables.map((t) => t.ref),
        sql,
        { signal: bench.signal },
      );
      for (const row of q.rows) {
        const t = tables.find((x) => x.ref.name === row.name);
        if (t) t.result.counts[t.engine] = { n: Number(row.n), amount: String(row.amount) };
      }
    }
    for (const r of results) {
      const expected = { n: r.data.expectedRows, amount: `${r.data.expectedAmountCents / 100n}.${String(r.data.expectedAmountCents % 100n).padStart(2, '0')}` };
      for (const engine of ['danau', 'streamer'] as const) {
        const runs = r[engine];
        if (!runs.load?.ok || !runs.cdc?.ok) continue;
        const got = r.counts[engine];
        const who = engine === 'danau' ? 'Danau' : baselineName;
        if (!got) failures.push(`size ${r.size}: ${who}'s table was not counted`);
        else if (got.n !== expected.n) failures.push(`size ${r.size}: ${who}'s table holds ${got.n} rows, expected ${expected.n}`);
        else if (got.amount !== expected.amount) failures.push(`size ${r.size}: ${who}'s table sums amount to ${got.amount}, expected ${expected.amount}`);
      }
      const d = r.counts.danau;
      const h = r.counts.streamer;
      if (d && h && d.n !== h.n) failures.push(`size ${r.size}: row counts differ: Danau ${d.n}, ${baselineName} ${h.n}`);
    }

    // Report.
    const line = (s = '') => process.stdout.write(`${s}\n`);
    const cpus = os.cpus();
    const streamerVersion = streamerJar ? jarVersion(streamerJar) : null;
    line(`Danau lake upsert vs ${baselineName}, ${new Date().toISOString()}: --sizes ${opts.sizes.join(',')} --table-type ${opts.tableType} --index ${opts.indexType}`);
    line(`machine: nproc ${os.availableParallelism()} (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}; load average before ${loadAvgBefore.map((v) => v.toFixed(2)).join(' ')}`);
    line(
      `versions: Spark ${versions.pyspark} (pyspark, Scala 2.12), Hudi ${versions.hudi} (${path.basename(versions.hudiBundle)}), hadoop-aws ${versions.hadoopAws}, aws-java-sdk-bundle ${versions.awsSdk}, Java ${versions.java}`,
    );
    line(
      `baseline: ${streamerJar ? `${path.basename(streamerJar)} (Implementation-Version ${streamerVersion ?? 'unknown'})${streamerVersion && streamerVersion !== versions.hudi ? ` -- NOT Hudi ${versions.hudi}: mixed versions` : ''}, org.apache.hudi.utilities.streamer.HoodieStreamer, ParquetDFSSource, AWSDmsAvroPayload, ordering field dms_change_seq` : `a plain Hudi datasource upsert (scripts/bench/plain_hudi_upsert.py: AWSDmsAvroPayload, the same casts, time zone, partitions and small-batch settings; no guard, change log or tombstones), in the same engine as Danau's job (HoodieStreamer: ${streamerSkipped})`}`,
    );
    line(`spark-submit: --master local[*], driver memory ${versions.driverMemory}, DANAU_SPARK_FAST_START=${versions.fastStart} (C1-only JIT when true), S3A to ${config.s3.endpoint ?? 'AWS'}`);
    line(
      `table: ${COLUMNS.length} columns (${COLUMNS.map((c) => `${c.name} ${c.lakeType}`).join(', ')}); key ${PRIMARY_KEY}; partitioned by ${PARTITION_FIELD} (${PARTITION_DAYS} days, dt=yyyy-MM-dd); ${opts.tableType}, ${opts.indexType} index`,
    );
    line(`each size N and engine: a new table; batch 1 = full load of N rows (files of ${fmt(LOAD_ROWS_PER_FILE)}), batch 2 = ${opts.cdcChanges ? fmt(opts.cdcChanges) : 'N'} CDC changes (files of ${fmt(CDC_CHANGES_PER_FILE)}, ~70% U / 20% I / 10% D)`);
    line('engine: warm = a client of the stack\'s Spark Connect engine (what the worker does); cold = a spark-submit of its own.');
    line();
    const widths = [9, 10, 9, 5, 1, 7, 8, 7, 7, 4, 6, 1, 7, 8, 7, 4, 6, 1, 6, 6];
    const row = (cells: string[]) => line(cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' '));
    line(`${' '.repeat(47)}Danau lake job${' '.repeat(29)}${baselineName.padEnd(28)}Danau/baseline`);
    row(['table', 'batch', 'rows', 'files', '|', 'wall s', 'rows/s', 'app s', 'job s', 's3', 'other', '|', 'wall s', 'rows/s', 'app s', 's3', 'other', '|', 'wall', 'app']);
    const s3Share = (f?: RunFigures) => (f ? `${fmt(f.contention.s3CpuPct)}%` : '');
    let contended = false;
    const other = (f?: RunFigures) => {
      if (!f) return '';
      if (f.contention.otherSparkJobs > 0) contended = true;
      return `${fmt(f.contention.otherCpuPct)}%${f.contention.otherSparkJobs > 0 ? '*' : ''}`;
    };
    for (const r of results) {
      for (const label of ['load', 'cdc'] as const) {
        const d = r.danau[label];
        const h = r.streamer[label];
        const rows = label === 'load' ? r.data.load.rows : r.data.cdc.rows;
        const files = label === 'load' ? r.data.load.files.length : r.data.cdc.files.length;
        const okWall = (f?: RunFigures) => (f?.ok ? f.wallSeconds : null);
        const okApp = (f?: RunFigures) => (f?.ok ? f.appSeconds : null);
        const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? fmt(a / b, 2) : '-');
        const streamerCell = (v: string) => v;
        row([
          fmt(r.size),
          `${label} ${r.engine}`,
          fmt(rows),
          String(files),
          '|',
          d ? (d.ok ? fmt(d.wallSeconds, 1) : 'FAILED') : '-',
          fmt(d?.ok ? rows / d.wallSeconds : null),
          fmt(okApp(d), 1),
          fmt(d?.ok ? d.jobSeconds : null, 1),
          s3Share(d),
          other(d),
          '|',
          streamerCell(h ? (h.ok ? fmt(h.wallSeconds, 1) : 'FAILED') : '-'),
          streamerCell(fmt(h?.ok ? rows / h.wallSeconds : null)),
          streamerCell(fmt(okApp(h), 1)),
          streamerCell(s3Share(h)),
          streamerCell(other(h)),
          '|',
          ratio(okWall(d), okWall(h)),
          ratio(okApp(d), okApp(h)),
        ]);
      }
    }
    line();
    line('wall s: job start to exit (warm: the client process; cold: spark-submit), what a pipeline pays per batch; rows/s = batch rows / wall s.');
    line('app s: cold only, SparkContext start to stop (Spark event log), i.e. without JVM and launcher start-up and exit.');
    line("job s: lake_job.py's own `seconds` (run_upsert: read, cast, dedupe, ordering guard, write).");
    line(`s3: CPU the local S3 server used during the run (its other clients' too); other: CPU of every other process (not the`);
    line(`  run, the S3 server or this benchmark); both as a share of the whole machine (${os.availableParallelism()} cores: ${fmt(100 / os.availableParallelism())}% is one core).`);
    line('  Much "other" (or s3 that is not the run\'s) inflates a figure: two cores are easily shared.');
    if (contended) line('  * other spark-submit jobs (the stack\'s worker, tests) ran at the same time: that figure is inflated.');
    line(`ratio: Danau / ${baselineName} time (above 1: Danau is slower).`);
    line();
    for (const r of results) {
      const exp = `${fmt(r.data.expectedRows)} rows expected (load ${fmt(r.data.load.rows)}, CDC ${fmt(r.data.cdc.updates)} U / ${fmt(r.data.cdc.inserts)} I / ${fmt(r.data.cdc.deletes)} D)`;
      const got = (c?: { n: number; amount: string }) => (c ? `${fmt(c.n)} rows, sum(amount) ${c.amount}` : 'not counted');
      line(`size ${fmt(r.size)} ${r.engine}: ${exp}; Danau ${got(r.counts.danau)}; ${baselineName} ${got(r.counts.streamer)}`);
    }
    line(`logs: ${bench.logDir}/${bench.stamp}-*`);
    line();
    if (failures.length) {
      line(`FAILED: ${failures.length} problem(s):`);
      for (const f of failures) line(`  - ${f}`);
    } else {
      line('OK: every run succeeded and every table holds the expected rows');
    }
    return failures.length ? 1 : 0;
  } catch (err) {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  } finally {
    for (const step of undo.reverse()) {
      try {
        await step.run();
      } catch (err) {
        say(`cleanup: could not ${step.what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (opts.keep) say(`kept bucket ${bucket}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
