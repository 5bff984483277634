// EmrStepRunner against a real AWS-API endpoint: moto's EMR from the local stack, through the real
// AWS SDK client. An EMR cluster cannot run here, so scripts/stack/aws_api_server.py simulates the
// step lifecycle (PENDING -> RUNNING -> the state a `--danau-test-outcome=<STATE>` argument names,
// COMPLETED by default; CancelSteps -> CANCEL_PENDING -> CANCELLED); the Spark job itself is tested
// with local Spark. moto keeps clusters in memory across runs, so every run makes its own cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddJobFlowStepsCommand,
  DescribeStepCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
  type EMRClient,
  type StepSummary,
} from '@aws-sdk/client-emr';
import { createEmrClient } from '../../lib/aws/clients';
import { EmrStepRunner, emrStepName, MAX_STEP_NAME_LENGTH } from '../../lib/spark/emr';
import { SparkJobError, type SparkJobOutcome } from '../../lib/spark/runner';
import { testConfig, uniqueSuffix } from '../support/stack';

const CODE_URI = 's3://danau-processed/_danau/code/';
const LOG_URI = 's3://danau-processed/_danau/emr-logs/';

describe('EmrStepRunner (EMR API on moto)', () => {
  let emr: EMRClient;
  let clusterId: string;
  const suffix = uniqueSuffix();
  const jobName = (what: string) => `danau:test-emr:${suffix}:${what}`;
  const runner = (pollSeconds = 0.05) => new EmrStepRunner({ client: emr, clusterId, codeUri: CODE_URI, pollSeconds, sparkSubmitArgs: ['--conf', 'spark.test=1'] });

  async function stepsNamed(name: string): Promise<StepSummary[]> {
    const steps: StepSummary[] = [];
    let marker: string | undefined;
    do {
      const page = await emr.send(new ListStepsCommand({ ClusterId: clusterId, Marker: marker }));
      steps.push(...(page.Steps ?? []).filter((s) => s.Name === name));
      marker = page.Marker;
    } while (marker);
    return steps;
  }

  before(async () => {
    const config = testConfig();
    assert.ok(config.aws.apiEndpoint, 'DANAU_AWS_API_ENDPOINT is not set: the stack (scripts/stack/aws-api.sh) provides it');
    emr = createEmrClient(config);
    const out = await emr.send(
      new RunJobFlowCommand({
        Name: `danau-test-emr-${suffix}`,
        LogUri: LOG_URI,
        ReleaseLabel: 'emr-7.5.0',
        Applications: [{ Name: 'Spark' }],
        Instances: { MasterInstanceType: 'm5.xlarge', InstanceCount: 1, KeepJobFlowAliveWhenNoSteps: true },
        JobFlowRole: 'EMR_EC2_DefaultRole',
        ServiceRole: 'EMR_DefaultRole',
      }),
    );
    assert.ok(out.JobFlowId);
    clusterId = out.JobFlowId;
  });

  after(async () => {
    if (clusterId) await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [clusterId] }));
    emr.destroy();
  });

  it('adds a spark-submit step under the job name, follows it to COMPLETED and reports its log prefix', async () => {
    const name = jobName('lake-upsert:clinic.clinic.patients:batch-1');
    const states: string[] = [];
    const outcome = await runner().run({
      script: 'scripts/spark/lake_job.py',
      args: ['--table', 'clinic.clinic.patients', '--batch', '1'],
      name,
      heartbeat: (p) => states.push(p.state),
    });
    assert.equal(outcome.runner, 'emr');
    assert.equal(outcome.attached, false);
    assert.ok(outcome.stepId);
    assert.equal(outcome.logLocation, `${LOG_URI}${clusterId}/steps/${outcome.stepId}/`);
    assert.equal(states.at(-1), 'COMPLETED');
    assert.ok(states.includes('RUNNING'), `heartbeat states: ${states.join(' ')}`);

    const [step, ...others] = await stepsNamed(name);
    assert.equal(others.length, 0);
    assert.equal(step?.Id, outcome.stepId);
    assert.equal(step?.ActionOnFailure, 'CONTINUE');
    assert.equal(step?.Config?.Jar, 'command-runner.jar');
    assert.deepEqual(step?.Config?.Args, [
      'spark-submit', '--deploy-mode', 'cluster', '--conf', 'spark.test=1', '--py-files', `${CODE_URI}danau_lake.zip`,
      `${CODE_URI}lake_job.py`, '--table', 'clinic.clinic.patients', '--batch', '1',
    ]);
  });

  it('gives a name over 256 characters one deterministic step name, and finds that step again', async () => {
    const long = jobName(`lake-upsert:${'x'.repeat(300)}`);
    const stepName = emrStepName(long);
    assert.equal([...stepName].length, MAX_STEP_NAME_LENGTH);
    assert.equal(emrStepName(long), stepName);
    assert.notEqual(emrStepName(`${long}y`), stepName, 'names that share the first 239 characters stay apart');
    assert.equal(emrStepName('short'), 'short');

    const first = await runner().run({ script: 'scripts/spark/lake_job.py', args: [], name: long });
    const again = await runner().run({ script: 'scripts/spark/lake_job.py', args: [], name: long });
    assert.deepEqual([first.attached, again.attached], [false, true]);
    assert.equal(again.stepId, first.stepId);
    assert.equal((await stepsNamed(stepName)).length, 1);
  });

  it('attaches a second run to the running step of the same name instead of adding one, and to the completed one after', async () => {
    const name = jobName('attach');
    const request = { script: 'scripts/spark/lake_job.py', args: ['--batch', '2'], name };
    // The first run polls slowly, so its step is still in flight when the second run looks.
    const firstRun = runner(1).run(request);
    for (let i = 0; (await stepsNamed(name)).length === 0; i++) {
      assert.ok(i < 100, 'the first run never added its step');
      await new Promise((r) => setTimeout(r, 20));
    }
    const secondStates: string[] = [];
    const second = await runner().run({ ...request, heartbeat: (p) => secondStates.push(p.state) });
    const first: SparkJobOutcome = await firstRun;
    assert.equal(first.attached, false);
    assert.equal(second.attached, true);
    assert.equal(second.stepId, first.stepId);
    assert.equal(secondStates.at(-1), 'COMPLETED');

    const third = await runner().run(request);
    assert.equal(third.attached, true);
    assert.equal(third.stepId, first.stepId);
    assert.equal(third.logLocation, first.logLocation);
    assert.equal((await stepsNamed(name)).length, 1, 'exactly one step with the job name');
  });

  it('reports a FAILED step with its id, name, reason, message and log file, and adds a new step on the next run', async () => {
    const name = jobName('fails');
    const request = { script: 'scripts/spark/lake_job.py', args: ['--danau-test-outcome=FAILED'], name };
    const err = await runner().run(request).then(
      () => assert.fail('the run should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SparkJobError, String(err));
    const [step] = await stepsNamed(name);
    assert.ok(step?.Id);
    const logFile = `${LOG_URI}${clusterId}/steps/${step.Id}/stderr.gz`;
    assert.equal(err.logFile, logFile);
    assert.match(err.message, new RegExp(`EMR step ${step.Id} \\(${name}\\) on cluster ${clusterId} failed`));
    assert.ok(err.message.includes('Simulated step failure'), err.message);
    assert.ok(err.message.includes('SparkException'), err.message);
    assert.ok(err.message.endsWith(`log: ${logFile}`), err.message);

    // A failed step is not attached to: the retry adds its own.
    await assert.rejects(runner().run(request), SparkJobError);
    const steps = await stepsNamed(name);
    assert.equal(steps.length, 2);
    assert.deepEqual(steps.map((s) => s.Status?.State), ['FAILED', 'FAILED']);
  });

  it('cancels the step on abort, and a later run waits out a step being cancelled before adding its own', async () => {
    const name = jobName('cancel');
    // RUNNING: the simulated step stays running until it is cancelled.
    const request = { script: 'scripts/spark/lake_job.py', args: ['--danau-test-outcome=RUNNING'], name };
    const abort = new AbortController();
    const err = await runner().run({ ...request, signal: abort.signal, heartbeat: (p) => p.state === 'RUNNING' && abort.abort() }).then(
      () => assert.fail('the run should have been cancelled'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SparkJobError, String(err));
    assert.match(err.message, /cancelled \(CancelSteps submitted\)/);
    const [cancelled] = await stepsNamed(name);
    assert.ok(cancelled?.Id);
    assert.equal(cancelled.Status?.State, 'CANCEL_PENDING');

    // The next run finds the step being cancelled, waits until it is CANCELLED, then adds a new one.
    const retry = new AbortController();
    const states: string[] = [];
    await assert.rejects(
      runner().run({
        ...request,
        signal: retry.signal,
        heartbeat: (p) => {
          states.push(p.state);
          if (p.state === 'RUNNING') retry.abort();
        },
      }),
      /cancelled \(CancelSteps submitted\)/,
    );
    assert.deepEqual(states, ['CANCEL_PENDING', 'CANCELLED', 'PENDING', 'RUNNING']);
    const steps = await stepsNamed(name);
    assert.equal(steps.length, 2);
    assert.equal(steps[1]?.Id, cancelled.Id, 'ListSteps is newest first');
    assert.equal(steps[1]?.Status?.State, 'CANCELLED');
    const latest = await emr.send(new DescribeStepCommand({ ClusterId: clusterId, StepId: steps[0]?.Id }));
    assert.equal(latest.Step?.Status?.State, 'CANCEL_PENDING');
    const later = await emr.send(new DescribeStepCommand({ ClusterId: clusterId, StepId: steps[0]?.Id }));
    assert.equal(later.Step?.Status?.State, 'CANCELLED');
  });

  it('finds the step of its name past the first ListSteps page', async () => {
    const name = jobName('paged');
    const step = (stepName: string) => ({
      Name: stepName,
      ActionOnFailure: 'CONTINUE' as const,
      HadoopJarStep: { Jar: 'command-runner.jar', Args: ['--danau-test-outcome=RUNNING'] },
    });
    // The step a dead attempt left running, then 60 newer in-flight steps: ListSteps gives 50 a
    // page, newest first, so the job's step is on the second page.
    const added = await emr.send(new AddJobFlowStepsCommand({ JobFlowId: clusterId, Steps: [step(name)] }));
    const targetId = added.StepIds?.[0];
    assert.ok(targetId);
    await emr.send(new AddJobFlowStepsCommand({ JobFlowId: clusterId, Steps: Array.from({ length: 60 }, (_, i) => step(jobName(`filler-${i}`))) }));
    const firstPage = await emr.send(new ListStepsCommand({ ClusterId: clusterId, StepStates: ['PENDING', 'RUNNING', 'CANCEL_PENDING'] }));
    assert.ok(firstPage.Marker, 'ListSteps has a second page');
    assert.ok(!firstPage.Steps?.some((s) => s.Id === targetId), 'the job step is not on the first page');

    const abort = new AbortController();
    await assert.rejects(
      runner().run({ script: 'scripts/spark/lake_job.py', args: ['--danau-test-outcome=RUNNING'], name, signal: abort.signal, heartbeat: () => abort.abort() }),
      (err: unknown) => err instanceof SparkJobError && err.message.includes(`EMR step ${targetId} `),
    );
    assert.equal((await stepsNamed(name)).length, 1, 'attached to the existing step, none added');
  });

  it('does not add a step when the signal is already aborted', async () => {
    const name = jobName('aborted-early');
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(runner().run({ script: 'scripts/spark/lake_job.py', args: [], name, signal: abort.signal }), /cancelled before it was added/);
    assert.equal((await stepsNamed(name)).length, 0);
  });
});
