// The warm engine's runner: each job is a short-lived Python client (`lake_job.py … --remote sc://…`)
// of one long-lived Spark application serving Spark Connect: the stack's server on this machine
// (scripts/stack/spark.sh start), an EMR Spark Connect session's endpoint in production. The client
// builds plans; the engine, already started and with Hudi loaded, runs them. No JVM starts per job.
//
// Each job name maps to one server-side session id (a UUID derived from the name). A retry of the same
// job after its client was killed (a worker crash) joins the same session, and the job first stops
// whatever is still running there under its tag (danau_lake/cli.py), so two writers never work on one
// table at once. Cancelling the activity stops the client, which interrupts its operations first.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runLocalSparkJob } from './local';
import { fileName, stopLeftover, type SparkJobOutcome, type SparkJobRequest, type SparkRunner } from './runner';

/** A UUID (version 5 layout) from the job's name: the same name always gets the same session. */
export function sessionIdOf(name: string): string {
  const h = createHash('sha1').update(`danau-spark-session:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class SparkConnectRunner implements SparkRunner {
  readonly kind = 'connect';
  constructor(private readonly options: { url: string; home: string; env: Readonly<Record<string, string | undefined>> }) {}

  async run(request: SparkJobRequest): Promise<SparkJobOutcome> {
    const logFile = path.join(this.options.home, 'logs', 'spark', `${fileName(request.name)}.log`);
    const pidFile = path.join(this.options.home, 'spark', 'running', `${fileName(request.name)}.pid`);
    mkdirSync(path.dirname(pidFile), { recursive: true });
    // A client of this very job left by a killed worker: stopped before another starts.
    await stopLeftover(pidFile);
    try {
      const result = await runLocalSparkJob({
        script: request.script,
        args: [...request.args, '--remote', this.options.url, '--session-id', sessionIdOf(request.name)],
        launcher: { command: path.join(this.options.home, 'venv', 'bin', 'python'), args: [] },
        logFile,
        env: this.options.env,
        signal: request.signal,
        onStart: (pid) => writeFileSync(pidFile, String(pid)),
        onProgress: (elapsedMs) => request.heartbeat?.({ elapsedMs, state: 'RUNNING' }),
        progressEveryMs: 5_000,
      });
      return { runner: 'connect', attached: false, elapsedMs: result.elapsedMs, logLocation: logFile };
    } finally {
      rmSync(pidFile, { force: true });
    }
  }
}
