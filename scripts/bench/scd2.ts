// The SCD type-2 benchmark: how long Danau's type-2 builder (lib/warehouse/scd.ts, buildScd2) takes
// to build a patient dimension of --rows keys, and then to apply a batch that changes --changed-pct
// of them, on the local stack's PostgreSQL (a scratch database, dropped at the end, also on failure).
//
//   1. Initial load: a staging table (text columns, as the lake stages them) generated in SQL with
//      generate_series: one insert per key, plus one tracked change of every 10th key, so that those
//      keys have two versions and a late change can fall between them. First build: "initial build".
//   2. Incremental batch: --changed-pct of the keys change: 60% a tracked column (a new version), 20%
//      an untracked column only, 10% three changes in the batch (tracked, untracked, tracked), 5% are
//      deleted, 5% get a late change (change_seq between the key's two stored versions). The
//      incremental build is the headline figure; the invariant checks (buildInvariantChecks) are
//      timed on their own. Version counts are compared with what the batch must produce.
//      The machine may be shared, so the incremental build and the baseline run --repeat times,
//      alternating; every run but the last is rolled back and VACUUMed away (untimed), so each one
//      starts from the same table. The median is reported, with every run's time.
//   3. Baseline, on a copy of the table as the initial build left it: the SQL of dbt's snapshot
//      'check' strategy (dbt-postgres: a staging table of insertions and updates from the latest
//      state of each changed key, compared with the current row; UPDATE ... SET valid_to by scd id;
//      INSERT the new versions), with check_cols = the tracked columns and a 'D' change treated like
//      dbt's hard_deletes = 'invalidate'. It does less: only each key's last change of the batch
//      counts, no change log is kept, late changes are not placed in history (they become current and
//      overlap: dbt-labs/dbt-core#7138), and untracked columns are not updated. The invariant checks
//      run on its table too, to show that.
//
// Each build runs as PostgresWarehouse.transaction runs one: BEGIN, the builder's statements in order
// on one connection, COMMIT, with the same session start-up options (TimeZone UTC, DateStyle ISO).
// It runs on a pg.Client of its own so that each statement is timed and a SET holds for the whole
// session (the warehouse's pool may reconnect). Session settings are the server's unless --work-mem
// or --temp-buffers is given, which SETs work_mem / temp_buffers in this session only (on the 2-core
// development machine neither 64MB nor 256MB work_mem changed the times beyond run-to-run noise).
// All tables are VACUUM ANALYZEd after they are loaded (untimed), as autovacuum would do, so that
// autovacuum does not start on them during a timed run.
//
// --rows takes a list (1000000,10000000): each size on a fresh scratch database, then the headline
// figures side by side (the build at 10M keys against 1M: the build's cost should follow the batch).
//
//   npm run -s bench:scd2 -- [--rows 1000000[,10000000]] [--changed-pct 1] [--repeat 3] [--work-mem 256MB] [--temp-buffers 256MB]
//                           [--explain plans.txt]
// --explain runs the last incremental build and baseline under EXPLAIN (ANALYZE, BUFFERS) and appends
// each statement's plan to the file: what each statement reads, and how.
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildInvariantChecks, buildScd2, changeLogOf, createTargetTable, type InvariantCheckScope, type Scd2Spec, type TableRef } from '../../lib/warehouse/scd';
import { createScratchDatabase, type ScratchDatabase } from '../../test/support/stack';

interface Options {
  /** Dimension sizes (keys), each measured on a fresh scratch database, in one run. */
  sizes: number[];
  changedPct: number;
  repeat: number;
  /** SET in the benchmark's session when given; else the server's setting. */
  workMem: string | undefined;
  tempBuffers: string | undefined;
  /** --explain FILE: the last incremental build's statements, and the last baseline's, run under EXPLAIN (ANALYZE, BUFFERS), plans appended to FILE. */
  explain: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '1000000' },
      'changed-pct': { type: 'string', default: '1' },
      repeat: { type: 'string', default: '3' },
      'work-mem': { type: 'string' },
      'temp-buffers': { type: 'string' },
      explain: { type: 'string' },
    },
    strict: true,
  });
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name}: expected a number from ${min} to ${max}, got ${v}`);
    return n;
  };
  const memory = (name: string, v: string | undefined) => {
    if (v !== undefined && !/^\d+(kB|MB|GB)$/.test(v)) throw new Error(`--${name}: expected e.g. 64MB or 1GB, got ${v}`);
    return v;
  };
  return {
    sizes: values.rows.split(',').map((v) => Math.floor(num('rows', v.trim().replace(/_/g, ''), 1000, 20_000_000))),
    changedPct: num('changed-pct', values['changed-pct'], 0.01, 50),
    repeat: Math.floor(num('repeat', values.repeat, 1, 20)),
    workMem: memory('work-mem', values['work-mem']),
    tempBuffers: memory('temp-buffers', values['temp-buffers']),
    explain: values.explain,
  };
}

const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const now = () => performance.now();
const fmt = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const secs = (s: number) => `${s.toFixed(2)} s`;

// --- the dimension -------------------------------------------------------------------------------

const SCHEMA = 'dw';
const STAGING: TableRef = { schema: 'stage', table: 'patient' };
const BATCH_INITIAL = 'bench_initial';
const BATCH_INCREMENTAL = 'bench_incremental';

function patientSpec(target: TableRef): Scd2Spec {
  return {
    kind: 'scd2',
    target,
    staging: STAGING,
    naturalKey: [{ name: 'patient_id', type: 'BIGINT' }],
    trackedColumns: [
      { name: 'city', type: 'VARCHAR(64)' },
      { name: 'insurer', type: 'VARCHAR(64)' },
    ],
    otherColumns: [
      { name: 'name', type: 'VARCHAR(128)' },
      { name: 'birth_date', type: 'DATE' },
      { name: 'phone', type: 'VARCHAR(32)' },
    ],
    surrogateKey: 'patient_key',
    deletePolicy: 'close',
  };
}

const DANAU = patientSpec({ schema: SCHEMA, table: 'dim_patient' });
/** The baseline's copy: same columns and indexes, no change log. */
const BASELINE = patientSpec({ schema: 'dbt', table: 'dim_patient' });
const STAGED_COLUMNS = ['patient_id', 'city', 'insurer', 'name', 'birth_date', 'phone', '_danau_op', '_danau_change_seq', '_danau_commit_ts'];

// --- generated values ----------------------------------------------------------------------------
// Every value is a function of the key `i` (a bigint) and a variant `v` (0 as first loaded): a change
// moves a column to another variant, so it is known to differ.

const CITIES = [
  'Jakarta', 'Surabaya', 'Bandung', 'Medan', 'Semarang', 'Makassar', 'Palembang', 'Tangerang', 'Depok', 'Bekasi',
  'Bogor', 'Batam', 'Pekanbaru', 'Padang', 'Malang', 'Denpasar', 'Samarinda', 'Banjarmasin', 'Pontianak', 'Manado',
  'Yogyakarta', 'Solo', 'Balikpapan', 'Jambi', 'Cirebon', 'Kupang', 'Mataram', 'Ambon', 'Jayapura', 'Bengkulu',
  'Palu', 'Kendari', 'Serang', 'Tasikmalaya', 'Madiun', 'Kediri', 'Probolinggo', 'Ternate', 'Sorong', 'Banda Aceh',
];
const INSURERS = ['BPJS Kesehatan', 'Allianz', 'Prudential', 'AXA Mandiri', 'Manulife', 'AIA', 'Cigna', 'Sinarmas', 'Avrist', 'Astra Life', 'BNI Life', 'Self-pay'];
const FIRST = ['Adi', 'Budi', 'Citra', 'Dewi', 'Eka', 'Fajar', 'Gita', 'Hadi', 'Indah', 'Joko', 'Kartika', 'Lestari', 'Made', 'Nur', 'Oka', 'Putri', 'Rina', 'Sari', 'Tono', 'Wati'];
const LAST = ['Santoso', 'Wijaya', 'Halim', 'Saputra', 'Pratama', 'Kusuma', 'Hidayat', 'Siregar', 'Nasution', 'Putra', 'Lubis', 'Tanjung', 'Harahap', 'Gunawan', 'Setiawan'];

const sqlArray = (values: string[]) => `(ARRAY[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}])`;
const city = (i: string, v: number) => `${sqlArray(CITIES)}[1 + (${i} + ${v}) % ${CITIES.length}]`;
const insurer = (i: string, v: number) => `${sqlArray(INSURERS)}[1 + (${i} / 7 + ${v}) % ${INSURERS.length}]`;
const name = (i: string) => `${sqlArray(FIRST)}[1 + ${i} % ${FIRST.length}] || ' ' || ${sqlArray(LAST)}[1 + (${i} / ${FIRST.length}) % ${LAST.length}]`;
const birthDate = (i: string) => `to_char(DATE '1940-01-01' + CAST((${i} * 7919) % 29000 AS INTEGER), 'YYYY-MM-DD')`;
const phone = (i: string, v: number) => `'+62 8' || lpad(CAST((${i} * 104729 + ${v} * 7) % 10000000000 AS TEXT), 10, '0')`;

// Changes are numbered by a global tick: change j of the table has tick 16*j, and a late change of
// key i sits at 16*i + 8, between the key's first change (tick 16*i) and its second (16*(N + i/10)).
/** change_seq as Danau writes them: fixed-width upper-case hex. */
const seqOf = (tick: string) => `lpad(upper(to_hex(${tick})), 16, '0')`;
/** The commit time of a tick, 'yyyy-MM-dd HH:mm:ss.ffffff': 100 µs per tick. */
const tsOf = (tick: string) => `to_char(TIMESTAMP '2024-01-01 00:00:00' + (${tick}) * INTERVAL '100 microseconds', 'YYYY-MM-DD HH24:MI:SS.US')`;

interface Variants {
  city: number;
  insurer: number;
  phone: number;
}

/** A staged row of key `i`. */
function stagedRow(i: string, v: Variants, op: 'I' | 'U' | 'D', tick: string): string {
  return `CAST(${i} AS TEXT), ${city(i, v.city)}, ${insurer(i, v.insurer)}, ${name(i)}, ${birthDate(i)}, ${phone(i, v.phone)}, '${op}', ${seqOf(tick)}, ${tsOf(tick)}`;
}

const V0: Variants = { city: 0, insurer: 0, phone: 0 };

interface BatchPlan {
  keys: number;
  tracked: number;
  untracked: number;
  multi: number;
  deletes: number;
  late: number;
}

function planBatch(rows: number, changedPct: number): BatchPlan {
  const keys = Math.max(5, Math.round((rows * changedPct) / 100));
  const tracked = Math.round(keys * 0.6);
  const untracked = Math.round(keys * 0.2);
  const multi = Math.round(keys * 0.1);
  const late = Math.min(Math.round(keys * 0.05), Math.floor(rows / 10));
  return { keys, tracked, untracked, multi, late, deletes: keys - tracked - untracked - multi - late };
}

/** Statements that fill the staging table with the initial load: N inserts, then one insurer change of every 10th key. */
function initialLoad(rows: number): string[] {
  const t = `${STAGING.schema}.${STAGING.table}`;
  return [
    `TRUNCATE ${t}`,
    `INSERT INTO ${t} (${STAGED_COLUMNS.join(', ')})
SELECT ${stagedRow('i', V0, 'I', '16 * i')}
FROM generate_series(CAST(1 AS BIGINT), ${rows}) AS i`,
    `INSERT INTO ${t} (${STAGED_COLUMNS.join(', ')})
SELECT ${stagedRow('i', { ...V0, insurer: 1 }, 'U', `16 * (${rows} + i / 10)`)}
FROM generate_series(CAST(10 AS BIGINT), ${rows}, 10) AS i`,
  ];
}

/** Statements that replace the staging table's contents with the incremental batch. */
function incrementalLoad(rows: number, plan: BatchPlan): string[] {
  const t = `${STAGING.schema}.${STAGING.table}`;
  const rest = plan.keys - plan.late;
  const a = plan.tracked;
  const b = a + plan.untracked;
  const c = b + plan.multi;
  // Batch changes come after every change of the initial load; keys in a shuffled order, 3 ticks each.
  const first = rows + Math.floor(rows / 10) + 1;
  const tick = (step: number) => `16 * (${first} + 3 * p.n + ${step})`;
  const insert = (kind: string, v: Variants, op: 'U' | 'D', tickSql: string) =>
    `SELECT ${stagedRow('p.id', v, op, tickSql)} FROM bench_picked p WHERE p.kind = '${kind}'`;
  return [
    `TRUNCATE ${t}`,
    `DROP TABLE IF EXISTS bench_picked`,
    // Late changes go to keys with two versions (every 10th key); the others to the rest.
    `CREATE TEMP TABLE bench_picked AS
SELECT id, kind, ROW_NUMBER() OVER (ORDER BY md5('order' || CAST(id AS TEXT))) AS n
FROM (
  SELECT i AS id, 'late' AS kind
  FROM (SELECT i, ROW_NUMBER() OVER (ORDER BY md5('late' || CAST(i AS TEXT))) AS rn FROM generate_series(CAST(10 AS BIGINT), ${rows}, 10) AS i) x
  WHERE rn <= ${plan.late}
  UNION ALL
  SELECT i, CASE WHEN rn <= ${a} THEN 'tracked' WHEN rn <= ${b} THEN 'untracked' WHEN rn <= ${c} THEN 'multi' ELSE 'delete' END
  FROM (SELECT i, ROW_NUMBER() OVER (ORDER BY md5('pick' || CAST(i AS TEXT))) AS rn FROM generate_series(CAST(1 AS BIGINT), ${rows}) AS i WHERE i % 10 <> 0) y
  WHERE rn <= ${rest}
) picked`,
    `INSERT INTO ${t} (${STAGED_COLUMNS.join(', ')})
${insert('tracked', { ...V0, city: 1 }, 'U', tick(0))}
UNION ALL ${insert('untracked', { ...V0, phone: 1 }, 'U', tick(0))}
UNION ALL ${insert('multi', { ...V0, city: 1 }, 'U', tick(0))}
UNION ALL ${insert('multi', { ...V0, city: 1, phone: 1 }, 'U', tick(1))}
UNION ALL ${insert('multi', { city: 1, insurer: 1, phone: 1 }, 'U', tick(2))}
UNION ALL ${insert('delete', V0, 'D', tick(0))}
UNION ALL ${insert('late', { ...V0, city: 2 }, 'U', '16 * p.id + 8')}`,
    `DROP TABLE bench_picked`,
  ];
}

// --- the baseline: dbt's snapshot 'check' strategy -----------------------------------------------

/** MD5 over text parts in the builder's encoding (so keys and row hashes compare with Danau's). */
function md5Parts(parts: string[]): string {
  return `MD5(${parts.map((p) => `COALESCE('v' || CAST(LENGTH(${p}) AS VARCHAR(12)) || ':' || ${p}, 'n')`).join(` || '|' || `)})`;
}

/**
 * dbt-postgres's snapshot for the check strategy (snapshot_staging_table + snapshot_merge_sql),
 * with the source being each changed key's latest staged state. Valid times are the change's commit
 * time (dbt's check strategy would use the run's now()); a 'D' is dbt's hard-delete invalidation.
 */
function dbtCheckSnapshot(batchId: string): string[] {
  const target = `${BASELINE.target.schema}.${BASELINE.target.table}`;
  const columns = ['patient_id', 'city', 'insurer', 'name', 'birth_date', 'phone'];
  const text = (col: string) => `CAST(l.${col} AS VARCHAR(65535))`;
  return [
    `CREATE TEMP TABLE dbt_snapshot_staging AS
WITH source_data AS (
  SELECT CAST(s.patient_id AS BIGINT) AS patient_id, CAST(s.city AS VARCHAR(64)) AS city, CAST(s.insurer AS VARCHAR(64)) AS insurer,
    CAST(s.name AS VARCHAR(128)) AS name, CAST(s.birth_date AS DATE) AS birth_date, CAST(s.phone AS VARCHAR(32)) AS phone,
    s._danau_op, s._danau_change_seq, CAST(s._danau_commit_ts AS TIMESTAMP) AS commit_ts,
    ROW_NUMBER() OVER (PARTITION BY CAST(s.patient_id AS BIGINT) ORDER BY s._danau_change_seq DESC) AS newest_first
  FROM ${STAGING.schema}.${STAGING.table} s
),
latest AS (
  SELECT l.*, ${md5Parts([text('city'), text('insurer')])} AS row_hash
  FROM source_data l
  WHERE l.newest_first = 1
),
snapshotted_data AS (
  SELECT * FROM ${target} WHERE valid_to IS NULL
),
insertions AS (
  SELECT 'insert' AS change_type, l.*, CAST(NULL AS CHAR(32)) AS scd_id
  FROM latest l
  LEFT JOIN snapshotted_data d ON d.patient_id = l.patient_id
  WHERE l._danau_op <> 'D' AND (d.patient_id IS NULL OR d.row_hash <> l.row_hash)
),
updates AS (
  SELECT 'update' AS change_type, l.*, d.patient_key AS scd_id
  FROM latest l
  JOIN snapshotted_data d ON d.patient_id = l.patient_id
  WHERE l._danau_op = 'D' OR d.row_hash <> l.row_hash
)
SELECT * FROM insertions
UNION ALL
SELECT * FROM updates`,
    `UPDATE ${target}
SET valid_to = s.commit_ts, is_current = FALSE, _danau_batch_id = '${batchId}'
FROM dbt_snapshot_staging s
WHERE s.scd_id = ${target}.patient_key AND s.change_type = 'update' AND ${target}.valid_to IS NULL`,
    `INSERT INTO ${target} (patient_key, ${columns.join(', ')}, valid_from, valid_to, is_current, row_hash, is_deleted, is_inferred, _danau_change_seq, _danau_batch_id)
SELECT ${md5Parts(['CAST(s.patient_id AS VARCHAR(65535))', 's._danau_change_seq'])}, ${columns.map((c) => `s.${c}`).join(', ')},
  s.commit_ts, NULL, TRUE, s.row_hash, FALSE, FALSE, s._danau_change_seq, '${batchId}'
FROM dbt_snapshot_staging s
WHERE s.change_type = 'insert'`,
    `DROP TABLE dbt_snapshot_staging`,
  ];
}

// --- running -------------------------------------------------------------------------------------

interface Step {
  label: string;
  seconds: number;
}

interface Run {
  seconds: number;
  steps: Step[];
  committed: boolean;
}

/** The median run (the lower middle one of an even count). */
function median(runs: Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** A short name for a statement: its verb and table. */
function label(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  const m = /^(INSERT INTO|CREATE TEMP TABLE|DELETE FROM|UPDATE|DROP TABLE|TRUNCATE|ANALYZE|SELECT)\s+("?[\w.]+"?(?:\."?\w+"?)?)?/i.exec(flat);
  return m ? `${m[1]!.toUpperCase()}${m[2] ? ` ${m[2].replace(/"/g, '')}` : ''}` : flat.slice(0, 40);
}

class Session {
  private running: { what: string; since: number } | null = null;
  private readonly ticker: NodeJS.Timeout;
  /** Set on Ctrl-C: no statement starts after it. */
  stopped = false;

  constructor(readonly client: pg.Client) {
    // Progress while a long statement runs.
    this.ticker = setInterval(() => {
      if (this.running) say(`  ... ${this.running.what}: ${((now() - this.running.since) / 1000).toFixed(0)} s so far`);
    }, 15_000);
    this.ticker.unref();
  }

  async run(sql: string, what = label(sql)): Promise<{ rows: Record<string, unknown>[]; seconds: number }> {
    if (this.stopped) throw new Error(`interrupted before: ${what}`);
    const started = now();
    this.running = { what, since: started };
    try {
      const result = await this.client.query<Record<string, unknown>>(sql);
      return { rows: result.rows, seconds: (now() - started) / 1000 };
    } finally {
      this.running = null;
    }
  }

  /**
   * BEGIN, the statements in order, COMMIT: as PostgresWarehouse.transaction runs a build. Times each
   * statement. With end 'ROLLBACK' the work is undone, and the time is up to the last statement.
   */
  async transaction(what: string, statements: string[], end: 'COMMIT' | 'ROLLBACK' = 'COMMIT', explainTo?: string): Promise<Run> {
    const started = now();
    const steps: Step[] = [];
    await this.run('BEGIN');
    try {
      for (const [i, sql] of statements.entries()) {
        const stepLabel = label(sql);
        // EXPLAIN ANALYZE runs the statement too; DDL other than CREATE TABLE … AS has no plan.
        const explained = explainTo !== undefined && /^\s*(INSERT|UPDATE|DELETE|SELECT|WITH|CREATE TEMP TABLE \S+ AS)\b/i.test(sql);
        const { rows, seconds } = await this.run(explained ? `EXPLAIN (ANALYZE, BUFFERS) ${sql}` : sql, `${what}, statement ${i + 1} of ${statements.length} (${stepLabel})`);
        if (explained) appendFileSync(explainTo, `-- ${what}, statement ${i + 1}: ${stepLabel} (${secs(seconds)})\n${rows.map((r) => String(r['QUERY PLAN'])).join('\n')}\n\n`);
        steps.push({ label: stepLabel, seconds });
        say(`  ${what}: statement ${i + 1}/${statements.length} ${stepLabel}: ${secs(seconds)}`);
      }
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    if (end === 'ROLLBACK') {
      const seconds = (now() - started) / 1000;
      await this.run('ROLLBACK');
      return { seconds, steps, committed: false };
    }
    const commit = await this.run('COMMIT');
    steps.push({ label: 'COMMIT', seconds: commit.seconds });
    return { seconds: (now() - started) / 1000, steps, committed: true };
  }

  async count(sql: string): Promise<number> {
    const { rows } = await this.run(sql);
    return Number(Object.values(rows[0] ?? {})[0]);
  }

  close(): void {
    clearInterval(this.ticker);
  }
}

interface CheckResult {
  name: string;
  offenders: number;
  seconds: number;
}

async function runChecks(session: Session, spec: Scd2Spec, scope: InvariantCheckScope): Promise<{ seconds: number; checks: CheckResult[] }> {
  const checks: CheckResult[] = [];
  for (const check of buildInvariantChecks(spec, scope)) {
    const { rows, seconds } = await session.run(check.sql, check.name);
    checks.push({ name: check.kind, offenders: rows.length, seconds });
    say(`  ${check.name}: ${rows.length} offending keys, ${secs(seconds)}`);
  }
  return { seconds: checks.reduce((s, c) => s + c.seconds, 0), checks };
}

/** Cancels the session's running statement from a connection of its own (Ctrl-C). */
async function cancelBackend(url: string, client: pg.Client): Promise<void> {
  const pid = (client as unknown as { processID: number | null }).processID;
  if (pid === null) return;
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  try {
    await other.query('SELECT pg_cancel_backend($1)', [pid]);
  } finally {
    await other.end();
  }
}

// --- main ----------------------------------------------------------------------------------------

/** One size's headline figures, for the side-by-side table at the end. */
interface SizeSummary {
  rows: number;
  versionsBefore: number;
  batchStaged: number;
  build: number;
  checks: number;
  fullChecks: number;
  baseline: number;
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const summaries: SizeSummary[] = [];
  let code = 0;
  for (const rows of opts.sizes) {
    // The same batch at every size: --changed-pct of the first size's keys.
    const outcome = await benchSize(opts, rows, (opts.changedPct * opts.sizes[0]!) / rows);
    if (outcome.summary) summaries.push(outcome.summary);
    if (outcome.code !== 0) {
      code = outcome.code;
      if (code === 130) return code;
    }
  }
  if (summaries.length > 1) {
    const line = (text = '') => process.stdout.write(`${text}\n`);
    const first = summaries[0]!;
    line('side by side (medians; the same batch shape at each size):');
    line('      keys    versions | build s  checks s  build+checks s  dbt snapshot s  (build+checks)/dbt | full checks s | build vs first size');
    for (const m of summaries) {
      line(
        `${fmt(m.rows).padStart(10)} ${fmt(m.versionsBefore).padStart(11)} | ${m.build.toFixed(2).padStart(7)} ${m.checks.toFixed(2).padStart(9)} ${(m.build + m.checks).toFixed(2).padStart(15)} ${m.baseline.toFixed(2).padStart(15)} ${((m.build + m.checks) / m.baseline).toFixed(2).padStart(19)} | ${m.fullChecks.toFixed(2).padStart(13)} | ${(m.build / first.build).toFixed(2)}x (batch ${fmt(m.batchStaged)} vs ${fmt(first.batchStaged)} changes)`,
      );
    }
  }
  return code;
}

async function benchSize(opts: Options, rows: number, changedPct: number): Promise<{ code: number; summary: SizeSummary | null }> {
  let summary: SizeSummary | null = null;
  const plan = planBatch(rows, changedPct);
  const historyKeys = Math.floor(rows / 10);
  const failures: string[] = [];
  const loadBefore = os.loadavg();
  let db: ScratchDatabase | undefined;
  let client: pg.Client | undefined;
  let session: Session | undefined;
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('interrupted: cancelling the running statement and dropping the scratch database (Ctrl-C again to quit at once)');
    if (session) session.stopped = true;
    if (db && client) void cancelBackend(db.url, client).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);

  try {
    db = await createScratchDatabase('danau_bench_scd2');
    say(`scratch database ${new URL(db.url).pathname.slice(1)}`);
    client = new pg.Client({ connectionString: db.url, options: '-c TimeZone=UTC -c DateStyle=ISO,YMD' });
    await client.connect();
    session = new Session(client);
    const s = session;
    // Before any temp table is used: temp_buffers cannot change after that.
    const sets: string[] = [];
    if (opts.workMem) sets.push(`work_mem = '${opts.workMem}'`);
    if (opts.tempBuffers) sets.push(`temp_buffers = '${opts.tempBuffers}'`);
    for (const set of sets) await s.run(`SET ${set}`);
    const setting = async (name: string) => String((await s.run(`SELECT current_setting('${name}') AS v`)).rows[0]?.v);
    const pgVersion = await setting('server_version');
    const server = {
      sharedBuffers: await setting('shared_buffers'),
      workMem: await setting('work_mem'),
      tempBuffers: await setting('temp_buffers'),
      parallel: await setting('max_parallel_workers_per_gather'),
      jit: await setting('jit'),
      collation: String((await s.run('SELECT datcollate AS v FROM pg_database WHERE datname = current_database()')).rows[0]?.v),
    };

    const stagingTable = `${STAGING.schema}.${STAGING.table}`;
    const target = `${DANAU.target.schema}.${DANAU.target.table}`;
    const log = changeLogOf(DANAU);
    const logTable = `${log.schema}.${log.table}`;
    const baselineTable = `${BASELINE.target.schema}.${BASELINE.target.table}`;
    await s.run(`CREATE SCHEMA ${SCHEMA}; CREATE SCHEMA ${STAGING.schema}; CREATE SCHEMA ${BASELINE.target.schema}`);
    await s.run(`CREATE TABLE ${stagingTable} (${STAGED_COLUMNS.map((c) => `${c} TEXT`).join(', ')})`);
    for (const sql of createTargetTable(DANAU)) await s.run(sql);

    // 1. Initial load.
    let t = now();
    say(`initial load: generating ${fmt(rows)} keys (+ ${fmt(historyKeys)} tracked changes of every 10th key) in ${stagingTable}`);
    for (const sql of initialLoad(rows)) await s.run(sql);
    await s.run(`VACUUM ANALYZE ${stagingTable}`);
    const initialStaged = await s.count(`SELECT COUNT(*) FROM ${stagingTable}`);
    say(`  ${fmt(initialStaged)} staged changes in ${secs((now() - t) / 1000)}`);
    say('initial build (buildScd2)');
    const initial = await s.transaction('initial build', buildScd2(DANAU, BATCH_INITIAL));
    say(`  initial build: ${secs(initial.seconds)}`);
    const versionsInitial = await s.count(`SELECT COUNT(*) FROM ${target}`);
    const expectedInitial = rows + historyKeys;
    if (versionsInitial !== expectedInitial) failures.push(`initial build: ${versionsInitial} versions, expected ${expectedInitial}`);

    // The baseline's copy of the table as the initial build left it (same columns, same indexes).
    t = now();
    await s.run(`CREATE TABLE ${baselineTable} (LIKE ${target} INCLUDING ALL)`);
    await s.run(`INSERT INTO ${baselineTable} SELECT * FROM ${target}`);
    await s.run(`VACUUM ANALYZE ${target}, ${logTable}, ${baselineTable}`);
    say(`baseline copy and VACUUM ANALYZE: ${secs((now() - t) / 1000)}`);

    // 2. Incremental batch.
    t = now();
    say(`incremental batch: ${fmt(plan.keys)} changed keys (${plan.tracked} tracked, ${plan.untracked} untracked only, ${plan.multi} with 3 changes, ${plan.deletes} deletes, ${plan.late} late)`);
    for (const sql of incrementalLoad(rows, plan)) await s.run(sql);
    await s.run(`VACUUM ANALYZE ${stagingTable}`);
    const batchStaged = await s.count(`SELECT COUNT(*) FROM ${stagingTable}`);
    say(`  ${fmt(batchStaged)} staged changes in ${secs((now() - t) / 1000)}`);
    const versionsBefore = versionsInitial;

    // Incremental build and baseline, alternating; all runs but the last rolled back and vacuumed away.
    const danauRuns: Run[] = [];
    const baselineRuns: Run[] = [];
    for (let r = 1; r <= opts.repeat; r++) {
      const end = r === opts.repeat ? 'COMMIT' : 'ROLLBACK';
      const of = opts.repeat > 1 ? `, run ${r} of ${opts.repeat}${end === 'ROLLBACK' ? ' (rolled back)' : ''}` : '';
      say(`incremental build (buildScd2)${of}`);
      const explainTo = end === 'COMMIT' ? opts.explain : undefined;
      const danau = await s.transaction('incremental build', buildScd2(DANAU, BATCH_INCREMENTAL), end, explainTo);
      danauRuns.push(danau);
      say(`  incremental build: ${secs(danau.seconds)}`);
      say(`baseline (dbt snapshot 'check' strategy) on the copy${of}`);
      const base = await s.transaction('baseline', dbtCheckSnapshot(BATCH_INCREMENTAL), end, explainTo);
      baselineRuns.push(base);
      say(`  baseline: ${secs(base.seconds)}`);
      if (end === 'ROLLBACK') await s.run(`VACUUM ${target}, ${logTable}, ${baselineTable}`);
    }
    const incremental = median(danauRuns);
    const baseline = median(baselineRuns);

    const versionsAfter = await s.count(`SELECT COUNT(*) FROM ${target}`);
    const currentAfter = await s.count(`SELECT COUNT(*) FROM ${target} WHERE is_current`);
    const expectedAfter = versionsBefore + plan.tracked + 2 * plan.multi + plan.late;
    const expectedCurrent = rows - plan.deletes;
    if (versionsAfter !== expectedAfter) failures.push(`incremental build: ${versionsAfter} versions, expected ${expectedAfter}`);
    if (currentAfter !== expectedCurrent) failures.push(`incremental build: ${currentAfter} current versions, expected ${expectedCurrent}`);
    const baselineAfter = await s.count(`SELECT COUNT(*) FROM ${baselineTable}`);
    const baselineCurrent = await s.count(`SELECT COUNT(*) FROM ${baselineTable} WHERE valid_to IS NULL`);
    const expectedBaseline = versionsBefore + plan.tracked + plan.multi + plan.late;
    if (baselineAfter !== expectedBaseline) failures.push(`baseline: ${baselineAfter} versions, expected ${expectedBaseline}`);

    // 3. Invariant checks (read only: repeated as the builds are).
    const checkRuns: { seconds: number; checks: CheckResult[] }[] = [];
    for (let r = 1; r <= opts.repeat; r++) {
      say(`invariant checks over the batch's keys, as a build runs them${opts.repeat > 1 ? `, run ${r} of ${opts.repeat}` : ''}`);
      checkRuns.push(await runChecks(s, DANAU, 'batch'));
    }
    say('invariant checks over the whole table (danau models check --full)');
    const fullChecks = await runChecks(s, DANAU, 'full');
    for (const c of fullChecks.checks) if (c.offenders) failures.push(`${c.name} ${target} (full): ${c.offenders} offending keys`);
    const checks = [...checkRuns].sort((a, b) => a.seconds - b.seconds)[Math.floor((checkRuns.length - 1) / 2)]!;
    for (const c of checks.checks) if (c.offenders) failures.push(`${c.name} ${target}: ${c.offenders} offending keys`);
    say('invariant checks on the baseline table');
    const baselineChecks = await runChecks(s, BASELINE, 'full');
    const loadAfter = os.loadavg();
    summary = { rows, versionsBefore, batchStaged, build: incremental.seconds, checks: checks.seconds, fullChecks: fullChecks.seconds, baseline: baseline.seconds };

    // Report.
    const cpus = os.cpus();
    const line = (text = '') => process.stdout.write(`${text}\n`);
    const breakdown = (steps: Step[]) =>
      steps
        .filter((st) => st.seconds >= 0.005)
        .map((st) => `${st.label} ${st.seconds.toFixed(2)}`)
        .join('; ');
    const all = (runs: { seconds: number }[]) => (runs.length > 1 ? ` (median of ${runs.length}: ${runs.map((r) => r.seconds.toFixed(2)).join(', ')} s)` : '');
    const offenders = (cs: CheckResult[]) => cs.map((c) => `${c.name} ${fmt(c.offenders)} offending keys (${secs(c.seconds)})`).join(', ');
    const loads = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
    const args = `--rows ${rows} --changed-pct ${fmt(changedPct, 3)} --repeat ${opts.repeat}${opts.workMem ? ` --work-mem ${opts.workMem}` : ''}${opts.tempBuffers ? ` --temp-buffers ${opts.tempBuffers}` : ''}`;
    line(`Danau SCD2 benchmark, ${new Date().toISOString()}: ${args}`);
    line(`machine: ${cpus.length} cores (os.cpus(); ${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}; load average before ${loads(loadBefore)}, after ${loads(loadAfter)}`);
    line(`PostgreSQL ${pgVersion} (the stack's; scratch database, collation ${server.collation}): shared_buffers ${server.sharedBuffers}, work_mem ${server.workMem}, temp_buffers ${server.tempBuffers}, max_parallel_workers_per_gather ${server.parallel}, jit ${server.jit}`);
    line(`  SET in the benchmark's session: ${sets.length ? sets.join(', ') : "none (the server's settings)"}. Tables VACUUM ANALYZEd after loading (untimed).`);
    line(`dimension ${target}: key patient_id BIGINT; tracked city, insurer; other name, birth_date, phone; delete policy 'close'; change log ${logTable}`);
    line();
    line(`initial build: ${fmt(rows)} keys, ${fmt(initialStaged)} staged changes (every 10th key changed once) -> ${fmt(versionsInitial)} versions`);
    line(`  ${secs(initial.seconds)} = ${fmt(initialStaged / initial.seconds)} staged rows/s   [${breakdown(initial.steps)}]`);
    line();
    line(`incremental batch: ${fmt(plan.keys)} changed keys (${fmt(changedPct, 3)}%), ${fmt(batchStaged)} staged changes:`);
    line(`  ${fmt(plan.tracked)} tracked changes, ${fmt(plan.untracked)} untracked only, ${fmt(plan.multi)} with 3 changes (2 tracked), ${fmt(plan.deletes)} deletes, ${fmt(plan.late)} late (between 2 stored versions)`);
    line(`  versions before ${fmt(versionsBefore)}, after ${fmt(versionsAfter)} (expected ${fmt(expectedAfter)}); current ${fmt(currentAfter)}`);
    line(`  INCREMENTAL BUILD: ${secs(incremental.seconds)} = ${fmt(batchStaged / incremental.seconds)} staged rows/s, on a table of ${fmt(versionsBefore)} versions${all(danauRuns)}`);
    line(`    [${breakdown(incremental.steps)}]`);
    line(`  invariant checks over the batch's keys (in the build's transaction): ${secs(checks.seconds)}${all(checkRuns)}: ${offenders(checks.checks)}`);
    line(`  BUILD + CHECKS: ${secs(incremental.seconds + checks.seconds)}`);
    line(`  invariant checks over the whole table (danau models check --full, nightly): ${secs(fullChecks.seconds)}: ${offenders(fullChecks.checks)}`);
    line();
    line(`baseline: dbt snapshot 'check' strategy (check_cols city, insurer) as dbt-postgres runs it, same batch, copy of the same table:`);
    line(`  ${secs(baseline.seconds)} = ${fmt(batchStaged / baseline.seconds)} staged rows/s${all(baselineRuns)}`);
    line(`    [${breakdown(baseline.steps)}]`);
    line(`  versions after ${fmt(baselineAfter)} (expected ${fmt(expectedBaseline)}), current ${fmt(baselineCurrent)}; its invariant checks: ${offenders(baselineChecks.checks)}`);
    line(`  Danau / baseline: ${(incremental.seconds / baseline.seconds).toFixed(2)}x the time (medians); build + checks / baseline: ${((incremental.seconds + checks.seconds) / baseline.seconds).toFixed(2)}x`);
    line("  The baseline does less: it keeps only each key's last change of the batch (the 3-change keys get 1 version, not 2),");
    line('  keeps no change log, does not place late changes in history (they become current and overlap the version they');
    line('  should split: the overlapping keys above), and does not carry untracked-column changes into the dimension.');
    if (opts.repeat > 1) {
      const commitOf = (runs: Run[]) => secs(runs[runs.length - 1]!.steps.find((st) => st.label === 'COMMIT')?.seconds ?? NaN);
      line(`  (Runs before the last were rolled back, so their time ends with the last statement; the last runs' COMMIT took ${commitOf(danauRuns)} (Danau), ${commitOf(baselineRuns)} (baseline).)`);
    }
    line();
    if (failures.length) {
      line(`FAILED: ${failures.length} problem(s):`);
      for (const f of failures) line(`  - ${f}`);
    } else {
      line("OK: version counts as expected; invariant checks pass on Danau's table");
    }
    line();
    return { code: failures.length ? 1 : 0, summary };
  } catch (err) {
    if (interrupted) {
      say('interrupted');
      return { code: 130, summary: null };
    }
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return { code: 1, summary: null };
  } finally {
    session?.close();
    await client?.end().catch(() => undefined);
    if (db) {
      try {
        await db.drop();
        say('dropped the scratch database');
      } catch (err) {
        say(`cleanup: could not drop the scratch database: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    process.off('SIGINT', onSigint);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
