// The worker entry point as a process: it validates configuration before anything else, starts one
// worker per queue, logs JSON, and shuts down cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createScratchDatabase, TEST_NAMESPACE, TEST_QUEUE_PREFIX, type ScratchDatabase } from '../support/stack';

const main = path.join(__dirname, '..', '..', 'workers', 'main.js');

const children = new Set<ReturnType<typeof spawn>>();
let db: ScratchDatabase | undefined;

function startWorker(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [main, ...args], {
    // A scratch control plane: the worker applies migrations at start, and must not touch the demo's.
    env: { ...process.env, TEMPORAL_NAMESPACE: TEST_NAMESPACE, DANAU_TASK_QUEUE_PREFIX: TEST_QUEUE_PREFIX, DANAU_METRICS_PORT: '0', DANAU_CONTROL_DATABASE_URL: db!.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('close', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // A worker that does not exit when it should fails the test instead of hanging it.
  const exited = (within = 30_000) =>
    Promise.race([closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`worker still running after ${within} ms: ${stderr}`)), within).unref())]);
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('worker process', () => {
  before(async () => {
    db = await createScratchDatabase('danau_test_worker');
  });
  // A worker left polling the test queues would take the next suites' tasks.
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await db?.drop();
  });

  it('refuses bad configuration at start-up, naming the field', async () => {
    const w = startWorker({ DANAU_CONTROL_DATABASE_URL: 'nonsense', DANAU_TIMEZONE: 'Nowhere/Land' });
    assert.equal(await w.exited(), 1);
    assert.match(w.output().stderr, /DANAU_CONTROL_DATABASE_URL: must be a URL/);
    assert.match(w.output().stderr, /DANAU_TIMEZONE: must be an IANA time zone/);
  });

  it('refuses an unknown queue name', async () => {
    const w = startWorker({}, ['--queues', 'control,toString']);
    assert.equal(await w.exited(), 1);
    assert.match(w.output().stderr, /--queues: unknown queue toString/);
  });

  it('starts a worker per queue, logs JSON, and stops cleanly on SIGTERM', async () => {
    const w = startWorker({});
    const deadline = Date.now() + 60_000;
    while (!w.output().stdout.includes('"msg":"workers started"')) {
      assert.ok(Date.now() < deadline, `worker did not start: ${w.output().stderr}`);
      assert.equal(w.child.exitCode, null, `worker exited early: ${w.output().stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const started = w.output().stdout.split('\n').find((l) => l.includes('"msg":"workers started"'))!;
    const line = JSON.parse(started) as { taskQueues: string[]; namespace: string; pid: number };
    assert.equal(line.pid, w.child.pid);
    assert.deepEqual(line.taskQueues.sort(), [`${TEST_QUEUE_PREFIX}control`, `${TEST_QUEUE_PREFIX}io`, `${TEST_QUEUE_PREFIX}spark`]);
    assert.equal(line.namespace, TEST_NAMESPACE);

    w.child.kill('SIGTERM');
    assert.equal(await w.exited(), 0);
    assert.match(w.output().stdout, /"msg":"workers stopped"/);
  });
});
