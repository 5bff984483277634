// Archival survives its worker being killed at any moment: an archivePartition run over 1,500 small
// files is SIGKILLed (workflow and activity worker together) several times, in each phase (build,
// verify, delete) at a random offset. After every kill, with no worker running, every original is
// either still in place, unchanged, or inside a verified, recorded archive whose zip holds it with
// the original's CRC-32. The run then converges: one zip at the partition's key, no incomplete
// multipart upload, no original left; recoverTable brings every byte back. Real Temporal, S3, PG.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { listPrefix, s3RangeReader } from '../../lib/archive/s3';
import { ArchiveStore, CLAIMED_STATES, VERIFIED_STATUSES } from '../../lib/archive/store';
import { crc32, readZipDirectory, type CentralEntry } from '../../lib/archive/zip';
import { connectClient } from '../../lib/temporal/client';
import { archivePartitionWorkflowId, type ArchivePartitionResult, type ArchivePartitionStatus } from '../../workflows/archivePartition';
import type { ArchiveTablesResult } from '../../workflows/archiveTables';
import { recoverTableWorkflowId, type RecoverTableResult } from '../../workflows/recoverTable';
import { createArchiveFixture, fileBody, getBytes, incompleteUploads, listKeys, markConsumed, putFiles, rawFileKey, type ArchiveFixture } from '../support/archive-fixtures';
import { TEST_NAMESPACE, TEST_QUEUE_PREFIX, testConfig, uniqueSuffix } from '../support/stack';

const FILES = 1500;
const DAY = '2024-04-01';
// One kill in each phase of the run, at a random moment within it (a phase already over is killed
// wherever the run is).
const KILL_IN: ArchivePartitionStatus['phase'][] = ['building', 'building', 'verifying', 'deleting', 'deleting'];
const workerScript = path.join(__dirname, '..', 'support', 'archive-worker.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('archive under worker crashes', () => {
  const suffix = uniqueSuffix();
  let fx: ArchiveFixture;
  let client: Client;
  let store: ArchiveStore;
  let bundleDir: string;
  let worker: ChildProcess | undefined;
  let workerLog = '';
  const originals = new Map<string, Buffer>();
  const md5 = new Map<string, string>();

  function startWorker(): ChildProcess {
    const child = spawn(process.execPath, [workerScript], {
      env: {
        ...process.env,
        ...fx.workerEnvironment,
        TEMPORAL_NAMESPACE: TEST_NAMESPACE,
        DANAU_TASK_QUEUE_PREFIX: TEST_QUEUE_PREFIX,
        DANAU_LOG_LEVEL: 'warn',
        ARCHIVE_WORKFLOW_BUNDLE: path.join(bundleDir, 'bundle.js'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (c: Buffer) => (workerLog += c.toString()));
    child.stderr.on('data', (c: Buffer) => (workerLog += c.toString()));
    return child;
  }

  async function kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('close', r));
    child.kill('SIGKILL');
    await gone;
  }

  /** Every original is in place and unchanged, or in a verified recorded archive whose zip holds it. */
  async function assertNothingLost(when: string): Promise<{ inPlace: number; archived: number }> {
    const present = new Map((await listPrefix(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/04/01/`)).map((o) => [o.key, o]));
    const missing: string[] = [];
    for (const [key, body] of originals) {
      const o = present.get(key);
      if (o && o.size === body.length && o.etag === `"${md5.get(key)}"`) continue;
      assert.ok(!o, `${when}: ${key} is in place but not the original`);
      missing.push(key);
    }
    if (missing.length === 0) return { inPlace: originals.size, archived: 0 };
    const archives = (await store.forTable(fx.table.tableId)).filter((a) => VERIFIED_STATUSES.includes(a.status));
    const held = new Map<string, CentralEntry>();
    for (const a of archives) {
      const claimed = new Set((await store.entries(a.archiveId, CLAIMED_STATES)).map((e) => e.key));
      const reader = await s3RangeReader(fx.s3, a.zipBucket, a.zipKey);
      assert.equal(reader.etag, a.zipEtag, `${when}: the zip of verified archive ${a.archiveId} is the one that was verified`);
      for (const e of (await readZipDirectory(reader)).entries) if (claimed.has(e.name)) held.set(e.name, e);
    }
    for (const key of missing) {
      const e = held.get(key);
      assert.ok(e, `${when}: ${key} is neither in place nor in a verified archive`);
      assert.equal(e.size, originals.get(key)!.length, `${when}: ${key} size in the zip`);
      assert.equal(e.crc32, crc32(originals.get(key)!), `${when}: ${key} CRC-32 in the zip`);
    }
    return { inPlace: originals.size - missing.length, archived: missing.length };
  }

  before(async () => {
    fx = await createArchiveFixture();
    store = new ArchiveStore(fx.controlPlane.pool);
    for (let i = 0; i < FILES; i++) originals.set(rawFileKey(fx.table.sourceName, DAY, i), fileBody(i));
    for (const [k, v] of originals) md5.set(k, createHash('md5').update(v).digest('hex'));
    await putFiles(fx.s3, fx.rawBucket, originals);
    await markConsumed(fx, originals);
    // Bundle the workflows once: every restart of the worker process reuses the bundle.
    bundleDir = mkdtempSync(path.join(os.tmpdir(), 'danau-archive-bundle-'));
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../support/archive-workflows'), logger: new DefaultLogger('ERROR') });
    writeFileSync(path.join(bundleDir, 'bundle.js'), code);
    client = await connectClient(testConfig());
  });

  after(async () => {
    if (worker) await kill(worker);
    await client?.connection.close();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
    await fx?.close();
  });

  it(`keeps every original in place or in a verified archive across ${KILL_IN.length} kills, and converges to one zip`, { timeout: 170_000 }, async (t) => {
    const started = Date.now();
    const at = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    worker = startWorker();
    const handle: WorkflowHandle = await client.workflow.start('archivePartition', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: `${archivePartitionWorkflowId(fx.tableName, 'day', DAY)}/${suffix}`,
      // Short heartbeats so a killed step is retried within seconds; small delete batches so the
      // delete phase lasts long enough to be killed in.
      args: [{ table: fx.tableName, partition: DAY, heartbeatTimeoutSeconds: 3, deleteBatchKeys: 100, deepVerify: true }],
      workflowExecutionTimeout: '5 minutes',
    });

    for (const [i, phase] of KILL_IN.entries()) {
      const deadline = Date.now() + 40_000;
      let seen: string | undefined;
      for (;;) {
        const s = await handle.query<ArchivePartitionStatus>('status').catch(() => null);
        seen = s?.phase;
        if (s && (s.phase === phase || s.phase === 'done' || KILL_IN.indexOf(s.phase) > KILL_IN.indexOf(phase))) break;
        if (Date.now() > deadline) break;
        await sleep(50);
      }
      // A random moment inside the phase: the build and the deletion last a few seconds, verification less.
      const spread = { listing: 300, building: 1500, verifying: 400, 'awaiting-approval': 0, deleting: 1200, done: 0 }[phase];
      await sleep((phase === 'deleting' ? 200 : 0) + Math.floor(Math.random() * spread));
      await kill(worker);
      const state = await assertNothingLost(`after kill ${i + 1} (${seen ?? 'unknown'})`);
      t.diagnostic(`${at()}: kill ${i + 1} in ${seen ?? 'unknown'}: ${state.inPlace} in place, ${state.archived} only in the archive`);
      worker = startWorker();
    }

    const result = (await handle.result()) as ArchivePartitionResult;
    t.diagnostic(`${at()}: ${result.message}`);
    assert.equal(result.outcome, 'archived', `${result.message}\n${workerLog.slice(-3000)}`);
    assert.equal(result.files, FILES);
    await assertNothingLost('at the end');
    assert.deepEqual(await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/04/01/`), [], 'every original deleted');
    assert.deepEqual(await listKeys(fx.s3, fx.archiveBucket), [`raw-zone/${fx.table.sourceName}/public/events/day/2024-04-01.zip`], 'one zip');
    assert.equal(await incompleteUploads(fx.s3, fx.archiveBucket), 0, 'no multipart upload left behind');
    const archives = await store.forTable(fx.table.tableId);
    assert.equal(archives.length, 1);
    assert.equal(archives[0]!.status, 'originals_deleted');
    assert.equal(archives[0]!.fileCount, FILES);

    // Recovery through its workflow, on the same (last restarted) worker.
    const recovered = (await client.workflow.execute('recoverTable', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: `${recoverTableWorkflowId(fx.tableName, DAY, DAY)}/${suffix}`,
      args: [{ table: fx.tableName, startDate: DAY, endDate: DAY, concurrency: 16 }],
      workflowExecutionTimeout: '3 minutes',
    })) as RecoverTableResult;
    t.diagnostic(`${at()}: ${recovered.message}`);
    assert.equal(recovered.totals.recovered, FILES, recovered.message);
    assert.equal(recovered.totals.verified, FILES);
    for (const [key, body] of originals) assert.ok(body.equals(await getBytes(fx.s3, fx.rawBucket, key)), key);
  });
  it('waits for approval, obeys pause, and the scheduled scan archives only old, consumed, unarchived partitions', { timeout: 150_000 }, async (t) => {
    if (!worker || worker.exitCode !== null || worker.signalCode !== null) worker = startWorker();
    const control = testConfig().temporal.taskQueues.control;
    const day = (d: string, from: number, n: number) => new Map(Array.from({ length: n }, (_, i) => [rawFileKey(fx.table.sourceName, d, from + i), fileBody(from + i)] as const));
    const approvalDay = day('2024-04-05', 30_000, 40);
    const oldDay = day('2024-04-02', 31_000, 60);
    const lagging = day('2024-04-03', 32_000, 20);
    const young = day('2024-04-20', 33_000, 20);
    await putFiles(fx.s3, fx.rawBucket, new Map([...approvalDay, ...oldDay, ...lagging, ...young]));
    await markConsumed(fx, new Map([...approvalDay, ...oldDay, ...young, ...[...lagging].slice(0, 15)]));

    // requireApproval: everything up to deletion, then a report and a wait; pause holds it first.
    // Started paused (the signal comes with the start), so it holds before its first step.
    const handle = await client.workflow.signalWithStart('archivePartition', {
      taskQueue: control,
      workflowId: `${archivePartitionWorkflowId(fx.tableName, 'day', '2024-04-05')}/${suffix}`,
      args: [{ table: fx.tableName, partition: '2024-04-05', requireApproval: true, heartbeatTimeoutSeconds: 5 }],
      signal: 'pause',
      signalArgs: [],
      workflowExecutionTimeout: '3 minutes',
    });
    await sleep(1500);
    const held = await handle.query<ArchivePartitionStatus>('status');
    assert.equal(held.paused, true);
    assert.equal(held.plan, null, 'paused before listing');
    await handle.signal('resume');
    let waiting: ArchivePartitionStatus | undefined;
    for (let i = 0; i < 200; i++) {
      waiting = await handle.query<ArchivePartitionStatus>('status');
      if (waiting.phase === 'awaiting-approval') break;
      await sleep(100);
    }
    assert.equal(waiting?.phase, 'awaiting-approval');
    assert.equal(waiting.pendingApproval?.files, 40);
    assert.ok((waiting.pendingApproval?.zipBytes ?? 0) > 0);
    assert.equal((await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/04/05/`)).length, 40, 'nothing deleted before approval');
    await handle.signal('approveDelete');
    const approved = (await handle.result()) as ArchivePartitionResult;
    assert.equal(approved.outcome, 'archived', approved.message);
    assert.deepEqual(await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/04/05/`), []);

    // The scan, as of 2024-05-15 with the table's 30 days: 04-02 qualifies; 04-03 has files the lake
    // has not consumed; 04-20 is too young; 04-01 and 04-05 are archived already.
    const dry = (await client.workflow.execute('archiveTables', {
      taskQueue: control,
      workflowId: `archive-tables/dry-${suffix}`,
      args: [{ tables: [fx.tableName], asOf: '2024-05-15T00:00:00Z', dryRun: true }],
      workflowExecutionTimeout: '2 minutes',
    })) as ArchiveTablesResult;
    assert.deepEqual(dry.skipped.map((s) => [s.partition, s.reason]), [['2024-04-03', '5 of 20 files not yet consumed by the lake']]);
    assert.equal(dry.candidates, 1);
    assert.equal(dry.estimate.files, 60);
    assert.ok(dry.estimate.monthlyBefore > 0 && dry.estimate.oneTimeRequests > 0);
    assert.equal((await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/04/02/`)).length, 60, 'a dry run archives nothing');

    const real = (await client.workflow.execute('archiveTables', {
      taskQueue: control,
      workflowId: `archive-tables/run-${suffix}`,
      args: [{ tables: [fx.tableName], asOf: '2024-05-15T00:00:00Z', heartbeatTimeoutSeconds: 5 }],
      workflowExecutionTimeout: '2 minutes',
    })) as ArchiveTablesResult;
    t.diagnostic(`scan: ${JSON.stringify(real.counts)}; storage ${real.before?.monthlyCost} -> ${real.after?.monthlyCost} ${real.after?.currency}/month`);
    assert.equal(real.counts.archived, 1);
    assert.deepEqual(real.outcomes.map((o) => o.partition), ['2024-04-02']);
    assert.deepEqual(await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/04/02/`), []);
    assert.equal((await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/04/03/`)).length, 20);
    assert.equal((await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/04/20/`)).length, 20);
    assert.ok(real.before && real.after && real.after.monthlyCost < real.before.monthlyCost, 'the measured storage cost went down');
    const runs = await fx.controlPlane.pool.query<{ dry_run: boolean; archived: number; monthly_cost_before: string | null; monthly_cost_after: string | null }>(
      'SELECT dry_run, archived, monthly_cost_before, monthly_cost_after FROM archive_runs ORDER BY created_at',
    );
    assert.deepEqual(runs.rows.map((r) => [r.dry_run, r.archived]), [[true, 0], [false, 1]]);
    assert.ok(Number(runs.rows[1]!.monthly_cost_after) < Number(runs.rows[1]!.monthly_cost_before));
  });
});
