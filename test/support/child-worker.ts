// A Danau worker as a child process, for tests that kill it (SIGKILL, no goodbye) and start it again.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_NAMESPACE, TEST_QUEUE_PREFIX } from './stack';

const main = path.join(__dirname, '..', '..', 'workers', 'main.js');

export class ChildWorker {
  private child: ChildProcess | undefined;
  /** Everything the worker processes printed, across restarts. */
  log = '';

  constructor(
    private readonly queues: string[],
    private readonly env: Record<string, string>,
  ) {}

  start(): void {
    const child = spawn(process.execPath, [main, '--queues', this.queues.join(',')], {
      env: { ...process.env, TEMPORAL_NAMESPACE: TEST_NAMESPACE, DANAU_TASK_QUEUE_PREFIX: TEST_QUEUE_PREFIX, DANAU_METRICS_PORT: '0', DANAU_LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (c: Buffer) => (this.log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (this.log += c.toString()));
    this.child = child;
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('close', r));
    child.kill('SIGKILL');
    await gone;
  }

  async restart(): Promise<void> {
    await this.kill();
    this.start();
  }
}
