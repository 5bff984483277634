// Runs a PySpark job on this machine as a child process: through scripts/spark/submit.sh
// (spark-submit --master local[*]) by default, or as a Spark Connect client of the warm engine
// (lib/spark/connect.ts). Output goes to a log file that outlives the run.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../config';

export interface SparkJobRun {
  /** The job file, relative to the repository root, e.g. scripts/spark/hudi_smoke.py. */
  script: string;
  args: string[];
  /** Where stdout and stderr of spark-submit are kept. */
  logFile: string;
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  /** Called every `progressEveryMs` while the job runs (for activity heartbeats). */
  onProgress?: (elapsedMs: number) => void;
  /** Called with the process-group leader's pid once spark-submit has started. */
  onStart?: (pid: number) => void;
  progressEveryMs?: number;
  /** The program to run instead of submit.sh, with the arguments before the job's own. */
  launcher?: { command: string; args: string[] };
}

export interface SparkJobResult {
  exitCode: number;
  elapsedMs: number;
  logFile: string;
  /** The last line the job printed to stdout that parses as JSON: jobs report their figures that way. */
  summary: unknown;
}

export class SparkJobError extends Error {
  constructor(message: string, readonly logFile: string, readonly exitCode: number | null) {
    super(message);
    this.name = 'SparkJobError';
  }
}

export function runLocalSparkJob(run: SparkJobRun): Promise<SparkJobResult> {
  mkdirSync(path.dirname(run.logFile), { recursive: true });
  const log = createWriteStream(run.logFile, { flags: 'a' });
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const launcher = run.launcher ?? { command: 'bash', args: [path.join(repoRoot, 'scripts', 'spark', 'submit.sh')] };
    const child = spawn(launcher.command, [...launcher.args, path.join(repoRoot, run.script), ...run.args], {
      cwd: repoRoot,
      env: run.env,
      // Its own process group, so cancelling kills the JVM and not just the wrapper script.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid) run.onStart?.(child.pid);
    let lastJson: unknown = null;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      log.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const t = line.trim();
        if (t.startsWith('{') && t.endsWith('}')) {
          try {
            lastJson = JSON.parse(t);
          } catch {
            // not a summary line
          }
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => log.write(chunk));
    const ticker = setInterval(() => run.onProgress?.(Date.now() - started), run.progressEveryMs ?? 10_000);
    const kill = () => {
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    };
    run.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      clearInterval(ticker);
      log.end();
      reject(new SparkJobError(`could not start ${launcher.command}: ${err.message}`, run.logFile, null));
    });
    child.on('close', (code) => {
      clearInterval(ticker);
      run.signal?.removeEventListener('abort', kill);
      log.end();
      const elapsedMs = Date.now() - started;
      if (run.signal?.aborted) reject(new SparkJobError(`spark job ${run.script} was cancelled`, run.logFile, code));
      else if (code !== 0) reject(new SparkJobError(`spark job ${run.script} exited with ${code}; log: ${run.logFile}`, run.logFile, code));
      else resolve({ exitCode: 0, elapsedMs, logFile: run.logFile, summary: lastJson });
    });
  });
}
