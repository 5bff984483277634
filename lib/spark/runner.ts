// One way to run a PySpark job, three real implementations: a client of a warm Spark Connect engine
// (lib/spark/connect.ts: the stack's server locally, an EMR Spark Connect session in production),
// EMR steps for big one-off work (lib/spark/emr.ts), and spark-submit --master local[*] on one
// machine (LocalSparkRunner below). The job file is the same; a job reports its figures by writing a
// result object to S3, which works on all three.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runLocalSparkJob, SparkJobError } from './local';

export interface SparkJobRequest {
  /** The job file, relative to the repository root, e.g. scripts/spark/lake_upsert.py. */
  script: string;
  args: string[];
  /**
   * Deterministic for the work it does, e.g. `danau:lake-upsert:clinic.clinic.patients:<batch>`: the
   * EMR step's name (a retried activity attaches to the step instead of adding another) and the local
   * log file's name.
   */
  name: string;
  signal?: AbortSignal;
  /** Called while the job runs, for activity heartbeats. */
  heartbeat?: (progress: { elapsedMs: number; state: string }) => void;
}

export type SparkRunnerKind = 'local' | 'emr' | 'connect';

export interface SparkJobOutcome {
  runner: SparkRunnerKind;
  /** True when the job was already running or done under this name and was attached to, not started. */
  attached: boolean;
  elapsedMs: number;
  /** Where its log is: a local file, or the step's log prefix in S3. */
  logLocation: string;
  /** EMR only. */
  stepId?: string;
}

export interface SparkRunner {
  readonly kind: SparkRunnerKind;
  run(request: SparkJobRequest): Promise<SparkJobOutcome>;
}

export { SparkJobError };

export const fileName = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '_');

/**
 * spark-submit as a child process. A worker that dies leaves its job running (it is in its own
 * process group); the next attempt of the same job name stops that one before it starts, so two
 * writers never work on one Hudi table at once.
 */
export class LocalSparkRunner implements SparkRunner {
  readonly kind = 'local';
  constructor(private readonly options: { home: string; env: Readonly<Record<string, string | undefined>> }) {}

  async run(request: SparkJobRequest): Promise<SparkJobOutcome> {
    const logFile = path.join(this.options.home, 'logs', 'spark', `${fileName(request.name)}.log`);
    const pidFile = path.join(this.options.home, 'spark', 'running', `${fileName(request.name)}.pid`);
    mkdirSync(path.dirname(pidFile), { recursive: true });
    await stopLeftover(pidFile);
    try {
      const result = await runLocalSparkJob({
        script: request.script,
        args: request.args,
        logFile,
        env: this.options.env,
        signal: request.signal,
        onStart: (pid) => writeFileSync(pidFile, String(pid)),
        onProgress: (elapsedMs) => request.heartbeat?.({ elapsedMs, state: 'RUNNING' }),
        progressEveryMs: 5_000,
      });
      return { runner: 'local', attached: false, elapsedMs: result.elapsedMs, logLocation: logFile };
    } finally {
      rmSync(pidFile, { force: true });
    }
  }
}

export async function stopLeftover(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(-pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}
