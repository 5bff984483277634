// A source added after the worker started works without a restart, and `danau sources add` asks the
// worker (checkSource on the control queue), not its own process, whether the source can be used.
// Real Temporal server (test namespace), a real worker, the real source databases, a scratch control plane.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { WorkflowId } from '../../lib/common/temporal';
import type { ControlPlane } from '../../lib/control-plane/store';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import type { SourceCheckResult } from '../../lib/sources/check';
import { connectClient } from '../../lib/temporal/client';
import type { CheckSourceInput } from '../../workflows/checkSource';
import type { OnboardTableInput, OnboardTableResult } from '../../workflows/onboardTable';
import { createAdapters, createWorkers, type Adapters } from '../../workers/workers';
import { createScratchControlPlane, testConfig, uniqueSuffix, TEST_NAMESPACE, TEST_QUEUE_PREFIX, type ScratchDatabase } from '../support/stack';

const cli = path.join(__dirname, '..', '..', 'scripts', 'cli', 'danau.js');

describe('checkSource workflow and danau sources add', () => {
  let db: ScratchDatabase;
  let controlPlane: ControlPlane;
  let connection: NativeConnection;
  let adapters: Adapters;
  let worker: Worker;
  let running: Promise<void>;
  let client: Client;
  const suffix = uniqueSuffix();
  // Variables this test sets in the worker's (its own) environment only after the worker started.
  const late = `DANAU_TEST_LATE_SOURCE_${process.pid}`;
  const never = `DANAU_TEST_NEVER_SET_${process.pid}`;
  const refused = `DANAU_TEST_REFUSED_${process.pid}`;
  const badPassword = `DANAU_TEST_BAD_PASSWORD_${process.pid}`;
  const labsUrl = testConfig().environment.DANAU_SOURCE_LABS_URL!;

  before(async () => {
    for (const v of [late, never, refused, badPassword]) delete process.env[v];
    installTemporalRuntime(createLogger('error'), 'error');
    ({ db, controlPlane } = await createScratchControlPlane());
    const config = testConfig({ DANAU_CONTROL_DATABASE_URL: db.url });
    connection = await NativeConnection.connect({ address: config.temporal.address });
    adapters = createAdapters(config);
    [worker] = (await createWorkers({ config, connection, adapters, queues: ['control'] })) as [Worker];
    running = worker.run();
    client = await connectClient(config);
  });

  after(async () => {
    for (const v of [late, never, refused, badPassword]) delete process.env[v];
    worker?.shutdown();
    await running;
    await adapters?.close();
    await connection?.close();
    await client?.connection.close();
    await controlPlane?.close();
    await db?.drop();
  });

  const check = (input: CheckSourceInput, label: string) =>
    client.workflow.execute('checkSource', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: `${WorkflowId.checkSource(input.source, label)}/${suffix}`,
      args: [input],
    }) as Promise<SourceCheckResult>;

  it('a source registered after the worker started, its variable set after, is checked and onboarded by that worker', async () => {
    process.env[late] = labsUrl;
    await controlPlane.upsertSource({ name: 'late', engine: 'postgres', database: 'labs', connectionSecret: late, description: '' }, 'test');

    const result = await check({ source: 'late' }, 'late');
    assert.equal(result.ok, true, result.message);
    assert.match(result.message, new RegExp(`^source late: connected to postgres database labs at 127\\.0\\.0\\.1:\\d+ with environment variable ${late}$`));

    const input: OnboardTableInput = { source: 'late', schema: 'public', table: 'lab_results', precombineField: 'updated_at', partitionField: 'resulted_at', actor: 'check-source-test' };
    const onboarded = (await client.workflow.execute('onboardTable', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: `${WorkflowId.onboardTable(input)}/${suffix}`,
      args: [input],
    })) as OnboardTableResult;
    assert.equal(onboarded.outcome, 'created');
  });

  it('says exactly what is missing: the variable, a refused connection, a failed login, never a password', async () => {
    const definition = (connectionSecret: string) => ({ engine: 'postgres' as const, databaseName: 'labs', connectionSecret });

    const missing = await check({ source: 'ghost', definition: definition(never) }, 'missing');
    assert.deepEqual(missing, {
      source: 'ghost',
      ok: false,
      secret: `environment variable ${never}`,
      problem: 'secret',
      message: `source ghost: environment variable ${never} is not set in the worker's environment (nor in its config files)`,
    });

    process.env[refused] = 'postgres://danau:danau@127.0.0.1:1/labs';
    const down = await check({ source: 'down', definition: definition(refused) }, 'refused');
    assert.equal(down.problem, 'connection-refused');
    assert.equal(down.message, `source down: environment variable ${refused} resolves, but connection refused at 127.0.0.1:1`);

    const wrong = new URL(labsUrl);
    wrong.password = 'Not-The-Password-42';
    process.env[badPassword] = wrong.toString();
    const denied = await check({ source: 'denied', definition: definition(badPassword) }, 'denied');
    assert.equal(denied.problem, 'auth-failed');
    assert.equal(denied.message, `source denied: environment variable ${badPassword} resolves, but authentication failed for user ${wrong.username} at ${wrong.hostname}:${wrong.port}`);
    assert.doesNotMatch(JSON.stringify([missing, down, denied]), /Not-The-Password-42/);

    // Fixed within the worker's cache TTL (60 s): the check reads the secret anew and sees the fix.
    process.env[refused] = labsUrl;
    const fixed = await check({ source: 'down', definition: definition(refused) }, 'fixed');
    assert.equal(fixed.ok, true, fixed.message);
  });

  it('danau sources add checks from the worker: the variable only the worker has is enough, one it lacks is refused and not recorded', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_NAMESPACE: TEST_NAMESPACE, DANAU_TASK_QUEUE_PREFIX: TEST_QUEUE_PREFIX, DANAU_CONTROL_DATABASE_URL: db.url, DANAU_ACTOR: 'check-source-test' };
    // The CLI's own process does not have the variable: only the worker's check can succeed.
    delete env[late];
    // Asynchronously: the worker runs in this process and must answer while the CLI waits.
    const add = (name: string, secret: string) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [cli, 'sources', 'add', '--name', name, '--engine', 'postgres', '--database', 'labs', '--secret', secret], { env, encoding: 'utf8', timeout: 240_000 }, (err, stdout, stderr) =>
          resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
        );
      });

    const ok = await add('added_late', late);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`source added_late: connected to postgres database labs at .* with environment variable ${late}\\nsource added_late: created\\n`));

    const refusedAdd = await add('added_missing', never);
    assert.equal(refusedAdd.status, 1);
    // Whole lines: anything else on stderr (a runtime's warning) is not this test's business.
    assert.ok(
      refusedAdd.stderr.includes(
        `danau: source added_missing: environment variable ${never} is not set in the worker's environment (nor in its config files)\nsource added_missing: not recorded (fix the above and run this again, or add --no-check)\n`,
      ),
      refusedAdd.stderr,
    );
  });

  it('only the sources the worker could use were recorded', async () => {
    assert.ok(await controlPlane.getSource('added_late'));
    assert.equal(await controlPlane.getSource('added_missing'), null);
  });
});
