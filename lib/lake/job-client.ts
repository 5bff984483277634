// The one way TypeScript runs the lake job (scripts/spark/danau_lake): write the spec to S3, run the
// job on whichever runner the worker has (the warm engine, an EMR step, a local spark-submit), read
// its result object, and turn a failure into a typed error that says whether a retry can help. The job
// reports its own error type (danau_lake/errors.py); nothing here reads Python's text for it.
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ErrorType } from '../common/errors';
import { readObject } from '../raw-zone/objects';
import type { SparkJobOutcome, SparkRunner } from '../spark/runner';
import { LAKE_JOB_CONTRACT, lakeJobFailure, type LakeJobCommand, type LakeJobErrorType, type LakeJobResult, type LakeJobSpec } from './job-contract';

/** The job's entry for every runner (spark-submit and EMR steps run it; the warm engine's client too). */
export const LAKE_JOB_SCRIPT = 'scripts/spark/lake_job.py';

export class LakeJobFailure extends Error {
  constructor(
    readonly errorType: LakeJobErrorType,
    readonly retryable: boolean,
    message: string,
    readonly logLocation: string | null,
  ) {
    super(message);
    this.name = 'LakeJobFailure';
  }
}

export class LakeJobCancelled extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LakeJobCancelled';
  }
}

export interface LakeJobCall {
  /** Where the spec goes in the bucket (its resultUri says where the result comes back). */
  specKey: string;
  /** Deterministic for the work (see SparkJobRequest.name). */
  name: string;
  signal?: AbortSignal;
  heartbeat?: (progress: { elapsedMs: number; state: string }) => void;
}

const s3Location = (uri: string): { bucket: string; key: string } => {
  const m = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new LakeJobFailure('InvalidLakeJobSpec', false, `not an s3:// URI: ${uri}`, null);
  return { bucket: m[1]!, key: m[2]! };
};

export class LakeJobClient {
  constructor(private readonly deps: { s3: S3Client; bucket: string; runner: SparkRunner }) {}

  get runnerKind(): SparkRunner['kind'] {
    return this.deps.runner.kind;
  }

  async run<C extends LakeJobCommand>(command: C, spec: LakeJobSpec<C>, call: LakeJobCall): Promise<{ result: LakeJobResult<C>; outcome: SparkJobOutcome }> {
    const { s3, bucket, runner } = this.deps;
    const contract = LAKE_JOB_CONTRACT[command];
    const checked = contract.spec.safeParse(spec);
    if (!checked.success) {
      const problems = checked.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
      throw new LakeJobFailure('InvalidLakeJobSpec', false, `the ${command} spec does not match the contract: ${problems}`, null);
    }
    const result = s3Location(checked.data.resultUri);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: call.specKey, Body: JSON.stringify(checked.data, null, 2), ContentType: 'application/json' }));
    // A result left by an earlier attempt must not be read as this one's.
    await s3.send(new DeleteObjectCommand({ Bucket: result.bucket, Key: result.key }));

    let outcome: SparkJobOutcome | null = null;
    let runFailure: unknown = null;
    try {
      outcome = await runner.run({ script: LAKE_JOB_SCRIPT, args: [command, '--spec', `s3://${bucket}/${call.specKey}`], name: call.name, signal: call.signal, heartbeat: call.heartbeat });
    } catch (err) {
      runFailure = err;
    }
    if (call.signal?.aborted) throw new LakeJobCancelled(`lake job ${call.name} cancelled: the job was stopped`);
    const log = outcome?.logLocation ?? (runFailure as { logFile?: string } | null)?.logFile ?? null;

    const text = await readObject(s3, result.bucket, result.key).then(
      (b) => Buffer.from(b).toString('utf8'),
      () => null,
    );
    if (text === null) {
      const why = runFailure instanceof Error ? runFailure.message : 'it ended without one';
      throw new LakeJobFailure('LakeEngineError', true, `lake job ${call.name} wrote no result at ${checked.data.resultUri}: ${why}`, log);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new LakeJobFailure('LakeJobError', false, `lake job ${call.name} wrote a result that is not JSON at ${checked.data.resultUri}`, log);
    }
    const failed = lakeJobFailure.safeParse(body);
    if (failed.success) throw new LakeJobFailure(failed.data.errorType, failed.data.retryable, failed.data.error, log);
    const parsed = contract.result.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
      throw new LakeJobFailure('LakeJobError', false, `lake job ${call.name}: its ${command} result does not match the contract: ${problems}`, log);
    }
    if (!outcome) throw new LakeJobFailure('LakeEngineError', true, `lake job ${call.name} reported success but its runner failed: ${String(runFailure)}`, log);
    return { result: parsed.data as LakeJobResult<C>, outcome };
  }
}

/**
 * An activity's failure for a lake job that did not finish: Cancelled when the activity was
 * cancelled; otherwise the catalogued type (ReplayDataMissing, LakeJobFailed when a retry cannot help,
 * LakeJobError when it can), with what was being done, the job's own error type and its log.
 */
export function lakeJobActivityFailure(err: unknown, doing: string): Error {
  if (err instanceof LakeJobCancelled) return new CancelledFailure(`${doing}: cancelled, the job was stopped`);
  if (!(err instanceof LakeJobFailure)) return err instanceof Error ? err : new Error(String(err));
  const type = err.errorType === 'ReplayDataMissing' ? ErrorType.ReplayDataMissing : err.retryable ? 'LakeJobError' : ErrorType.LakeJobFailed;
  return ApplicationFailure.create({
    type,
    message: `${doing} failed (${err.errorType}${err.retryable ? '' : ', not retryable'}): ${err.message}${err.logLocation ? ` (log: ${err.logLocation})` : ''}`,
    nonRetryable: !err.retryable,
  });
}
