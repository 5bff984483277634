// The production SparkRunner: each job is an EMR step (command-runner.jar running spark-submit in
// cluster mode) on a long-running cluster, the job file already uploaded under `codeUri`. The step
// name is the job's deterministic name, so a retried activity finds the step its earlier attempt
// added and follows it instead of adding a duplicate (what Airflow's EmrAddStepsOperator does,
// apache/airflow#28704). Failures are reported with EMR's FailureDetails and where the logs are.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ActionOnFailure,
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  ListStepsCommand,
  StepCancellationOption,
  StepState,
  type EMRClient,
  type Step,
  type StepSummary,
} from '@aws-sdk/client-emr';
import { SparkJobError, type SparkJobOutcome, type SparkJobRequest, type SparkRunner } from './runner';

export interface EmrStepRunnerOptions {
  client: EMRClient;
  clusterId: string;
  /** s3://bucket/prefix/ where the job files are uploaded, e.g. s3://danau-processed/_danau/code/. */
  codeUri: string;
  /** How often DescribeStep is called (and the activity heartbeats); default 15. */
  pollSeconds?: number;
  /** spark-submit options put before the job file, e.g. ['--conf', 'spark.executor.memory=4g']. */
  sparkSubmitArgs?: string[];
}

/** EMR's limit on a step name (API_StepConfig: Name, 256 characters). */
export const MAX_STEP_NAME_LENGTH = 256;

/**
 * The EMR step name for a job name. Over EMR's limit, the head of the name plus a hash of the whole
 * name: still one step name per job name, so attaching keeps working for long names, and still
 * readable in the console. Counted in code points, so a surrogate pair is never split.
 */
export function emrStepName(jobName: string): string {
  const chars = [...jobName];
  if (chars.length <= MAX_STEP_NAME_LENGTH) return jobName;
  const hash = createHash('sha256').update(jobName).digest('hex').slice(0, 16);
  return `${chars.slice(0, MAX_STEP_NAME_LENGTH - hash.length - 1).join('')}~${hash}`;
}

/**
 * command-runner.jar's arguments: spark-submit, its options, the job's package (lib/spark/deploy.ts
 * uploads danau_lake.zip beside the entries), then the uploaded job file and the job's arguments.
 */
export function sparkSubmitCommand(codeUri: string, sparkSubmitArgs: readonly string[], request: Pick<SparkJobRequest, 'script' | 'args'>): string[] {
  return ['spark-submit', '--deploy-mode', 'cluster', ...sparkSubmitArgs, '--py-files', `${codeUri}danau_lake.zip`, `${codeUri}${path.posix.basename(request.script)}`, ...request.args];
}

/**
 * EMR hands LogUri back as `s3n://…` even when it was given as `s3://…`; the log prefix is quoted
 * for people and tools that read S3, which want `s3://`.
 */
export function normaliseLogUri(logUri: string | undefined): string | undefined {
  if (!logUri) return undefined;
  const uri = logUri.replace(/^s3[an]:\/\//, 's3://');
  return uri.endsWith('/') ? uri : `${uri}/`;
}

const ENDED = new Set<string>([StepState.COMPLETED, StepState.FAILED, StepState.CANCELLED, StepState.INTERRUPTED]);

/** States in which a step with the job's name is still doing (or undoing) the job's work. */
const IN_FLIGHT: StepState[] = [StepState.PENDING, StepState.RUNNING, StepState.CANCEL_PENDING];

interface FoundStep {
  id: string;
  state: string;
}

export class EmrStepRunner implements SparkRunner {
  readonly kind = 'emr';
  private readonly client: EMRClient;
  private readonly clusterId: string;
  private readonly codeUri: string;
  private readonly pollMs: number;
  private readonly sparkSubmitArgs: readonly string[];
  private logUri: Promise<string | undefined> | undefined;

  constructor(options: EmrStepRunnerOptions) {
    if (!/^s3:\/\/[^/]+/.test(options.codeUri)) throw new Error(`EmrStepRunner: codeUri must be s3://bucket/prefix/, got ${options.codeUri}`);
    const pollSeconds = options.pollSeconds ?? 15;
    if (!(pollSeconds > 0)) throw new Error(`EmrStepRunner: pollSeconds must be positive, got ${pollSeconds}`);
    this.client = options.client;
    this.clusterId = options.clusterId;
    this.codeUri = options.codeUri.endsWith('/') ? options.codeUri : `${options.codeUri}/`;
    this.pollMs = pollSeconds * 1000;
    this.sparkSubmitArgs = options.sparkSubmitArgs ?? [];
  }

  async run(request: SparkJobRequest): Promise<SparkJobOutcome> {
    const started = Date.now();
    const name = emrStepName(request.name);
    for (;;) {
      const existing = await this.existingStep(name);
      if (!existing) break;
      if (existing.state === StepState.COMPLETED) return this.outcome(existing.id, true, started);
      if (existing.state === StepState.CANCEL_PENDING) {
        // An earlier attempt is cancelling it: wait until it has stopped, so two steps never write
        // one table at once, then look again (it may yet have completed).
        await this.poll(existing.id, name, request, started, false);
        continue;
      }
      await this.follow(existing.id, name, request, started);
      return this.outcome(existing.id, true, started);
    }
    if (request.signal?.aborted) throw new SparkJobError(`EMR step ${name} cancelled before it was added`, '', null);
    // Not atomic with the lookup (AddJobFlowSteps has no idempotency token): two attempts of one
    // activity running at the same moment could both add. Temporal runs one attempt at a time, so
    // the gap is a dead attempt's step against its retry, which the lookup covers.
    const stepId = await this.addStep(name, request);
    await this.follow(stepId, name, request, started);
    return this.outcome(stepId, false, started);
  }

  /** The newest in-flight step with this name (a running one before one being cancelled), else the newest completed one. */
  private async existingStep(name: string): Promise<FoundStep | undefined> {
    const inFlight = await this.stepsNamed(name, IN_FLIGHT);
    const pick =
      inFlight.find((s) => s.Status?.State !== StepState.CANCEL_PENDING) ?? inFlight[0] ?? (await this.stepsNamed(name, [StepState.COMPLETED]))[0];
    return pick?.Id && pick.Status?.State ? { id: pick.Id, state: pick.Status.State } : undefined;
  }

  /** Every step of the cluster with this name in these states, newest first (ListSteps' order). */
  private async stepsNamed(name: string, states: StepState[]): Promise<StepSummary[]> {
    const found: StepSummary[] = [];
    let marker: string | undefined;
    do {
      const page = await this.client.send(new ListStepsCommand({ ClusterId: this.clusterId, StepStates: states, Marker: marker }));
      found.push(...(page.Steps ?? []).filter((s) => s.Name === name));
      marker = page.Marker;
    } while (marker);
    return found;
  }

  private async addStep(name: string, request: SparkJobRequest): Promise<string> {
    const out = await this.client.send(
      new AddJobFlowStepsCommand({
        JobFlowId: this.clusterId,
        Steps: [
          {
            Name: name,
            // A failed job must not stop the cluster or the other tables' steps queued behind it.
            ActionOnFailure: ActionOnFailure.CONTINUE,
            HadoopJarStep: { Jar: 'command-runner.jar', Args: sparkSubmitCommand(this.codeUri, this.sparkSubmitArgs, request) },
          },
        ],
      }),
    );
    const stepId = out.StepIds?.[0];
    if (!stepId) throw new Error(`EMR AddJobFlowSteps on ${this.clusterId} returned no step id for ${name}`);
    return stepId;
  }

  /** Waits for the step to end: resolves when it completed, throws SparkJobError otherwise. */
  private async follow(stepId: string, name: string, request: SparkJobRequest, started: number): Promise<void> {
    const step = await this.poll(stepId, name, request, started, true);
    const state = step.Status?.State;
    if (state === StepState.COMPLETED) return;
    const logLocation = await this.stepLogLocation(stepId);
    if (state === StepState.FAILED) {
      const failure = step.Status?.FailureDetails;
      const why = [failure?.Reason, failure?.Message].filter(Boolean).join(': ') || 'EMR gave no failure details';
      const log = failure?.LogFile ?? logLocation;
      throw new SparkJobError(`EMR step ${stepId} (${name}) on cluster ${this.clusterId} failed: ${why}; log: ${log}`, log, null);
    }
    const reason = step.Status?.StateChangeReason?.Message;
    throw new SparkJobError(`EMR step ${stepId} (${name}) on cluster ${this.clusterId} was ${state}${reason ? `: ${reason}` : ''}, not by this run; log: ${logLocation}`, logLocation, null);
  }

  /**
   * DescribeStep every pollSeconds, heartbeating each time, until the step has ended. An abort
   * cancels the step when `cancelOnAbort` (it is this job's step) and throws "cancelled".
   */
  private async poll(stepId: string, name: string, request: SparkJobRequest, started: number, cancelOnAbort: boolean): Promise<Step> {
    for (;;) {
      if (request.signal?.aborted) throw await this.cancelled(stepId, name, cancelOnAbort);
      const out = await this.client.send(new DescribeStepCommand({ ClusterId: this.clusterId, StepId: stepId }));
      if (!out.Step) throw new Error(`EMR step ${stepId} (${name}) is not on cluster ${this.clusterId}`);
      const state = out.Step.Status?.State ?? 'UNKNOWN';
      request.heartbeat?.({ elapsedMs: Date.now() - started, state });
      if (ENDED.has(state)) return out.Step;
      try {
        await sleep(this.pollMs, undefined, { signal: request.signal });
      } catch {
        // Only an abort rejects the sleep; the top of the loop handles it.
      }
    }
  }

  private async cancelled(stepId: string, name: string, cancel: boolean): Promise<SparkJobError> {
    const note = cancel ? await this.cancelStep(stepId) : 'it was already being cancelled';
    const logLocation = await this.stepLogLocation(stepId).catch(() => '');
    return new SparkJobError(`EMR step ${stepId} (${name}) on cluster ${this.clusterId} cancelled (${note})`, logLocation, null);
  }

  /**
   * Best-effort: the activity is being cancelled either way, so a CancelSteps that fails (or a
   * step that had already ended) only changes the note in the error, and nothing is logged.
   */
  private async cancelStep(stepId: string): Promise<string> {
    try {
      const out = await this.client.send(
        new CancelStepsCommand({ ClusterId: this.clusterId, StepIds: [stepId], StepCancellationOption: StepCancellationOption.SEND_INTERRUPT }),
      );
      const info = out.CancelStepsInfoList?.find((i) => i.StepId === stepId);
      return info?.Status === 'SUBMITTED' ? 'CancelSteps submitted' : `CancelSteps not accepted: ${info?.Reason ?? 'no reason given'}`;
    } catch (err) {
      return `CancelSteps failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private async outcome(stepId: string, attached: boolean, started: number): Promise<SparkJobOutcome> {
    return { runner: 'emr', attached, elapsedMs: Date.now() - started, logLocation: await this.stepLogLocation(stepId), stepId };
  }

  /**
   * Where EMR puts a step's logs: `<LogUri><clusterId>/steps/<stepId>/`. A cluster without a
   * LogUri keeps them only on its primary node, under /mnt/var/log/hadoop/steps/.
   */
  private async stepLogLocation(stepId: string): Promise<string> {
    const logUri = await this.clusterLogUri();
    return logUri ? `${logUri}${this.clusterId}/steps/${stepId}/` : `${this.clusterId}:/mnt/var/log/hadoop/steps/${stepId}/`;
  }

  /** The cluster's LogUri, asked once per runner (it cannot change on a running cluster). */
  private clusterLogUri(): Promise<string | undefined> {
    this.logUri ??= this.client.send(new DescribeClusterCommand({ ClusterId: this.clusterId })).then(
      (out) => normaliseLogUri(out.Cluster?.LogUri),
      (err: unknown) => {
        this.logUri = undefined; // ask again next time
        throw err;
      },
    );
    return this.logUri;
  }
}
