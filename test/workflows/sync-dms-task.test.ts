// syncDmsTask against a real AWS-API endpoint: moto's DMS server from the local stack, through the
// real AWS SDK client, on the real Temporal server and a scratch control plane. moto keeps tasks in
// memory and has no ModifyReplicationTask, so the stop-modify-resume path is unit-tested only
// (test/unit/dms-task.test.ts); create, start, describe, stop and resume run here for real.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import {
  CreateEndpointCommand,
  CreateReplicationInstanceCommand,
  DescribeReplicationTasksCommand,
  type DatabaseMigrationServiceClient,
} from '@aws-sdk/client-database-migration-service';
import { ErrorType } from '../../lib/common/errors';
import { WorkflowId } from '../../lib/common/temporal';
import { createDmsClient } from '../../lib/aws/clients';
import { buildS3TargetSettings, replicationTaskId } from '../../lib/capture/dms-task';
import type { ControlPlane } from '../../lib/control-plane/store';
import { createLogger, installTemporalRuntime } from '../../lib/logging';
import { parseTableDefinition } from '../../lib/tables/definition';
import { connectClient, explainFailure } from '../../lib/temporal/client';
import type { SyncDmsTaskInput, SyncDmsTaskResult } from '../../workflows/syncDmsTask';
import { createAdapters, createWorkers, type Adapters } from '../../workers/workers';
import { createScratchControlPlane, testConfig, uniqueSuffix, type ScratchDatabase } from '../support/stack';

describe('syncDmsTask (DMS API on moto)', () => {
  let db: ScratchDatabase;
  let controlPlane: ControlPlane;
  let connection: NativeConnection;
  let adapters: Adapters;
  let worker: Worker;
  let running: Promise<void>;
  let client: Client;
  let dms: DatabaseMigrationServiceClient;
  const suffix = uniqueSuffix();
  const source = `clinic_${suffix}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  let arns: Pick<SyncDmsTaskInput, 'replicationInstanceArn' | 'sourceEndpointArn' | 'targetEndpointArn'>;

  before(async () => {
    installTemporalRuntime(createLogger('error'), 'error');
    ({ db, controlPlane } = await createScratchControlPlane());
    const config = testConfig({ DANAU_CONTROL_DATABASE_URL: db.url });
    assert.ok(config.aws.apiEndpoint, 'DANAU_AWS_API_ENDPOINT is not set: the stack (scripts/stack/aws-api.sh) provides it');
    await controlPlane.upsertSource({ name: source, engine: 'mysql', database: 'clinic', connectionSecret: 'DANAU_SOURCE_CLINIC_URL', description: '' }, 'test');
    const def = parseTableDefinition({ source, schema: 'clinic', table: 'patients', precombineField: 'updated_at', partitionField: 'registered_at' });
    await controlPlane.recordTable(def, ['patient_id'], [
      { name: 'patient_id', lakeName: 'patient_id', sourceType: 'int(11)', lakeType: 'int', nullable: false },
      { name: 'registered_at', lakeName: 'registered_at', sourceType: 'datetime(6)', lakeType: 'timestamp', nullable: false },
      { name: 'updated_at', lakeName: 'updated_at', sourceType: 'datetime(6)', lakeType: 'timestamp', nullable: false },
    ], 'test');

    dms = createDmsClient(config);
    const instance = await dms.send(new CreateReplicationInstanceCommand({ ReplicationInstanceIdentifier: `ri-${suffix}`.replace(/_/g, '-'), ReplicationInstanceClass: 'dms.t3.medium' }));
    const sourceEndpoint = await dms.send(new CreateEndpointCommand({ EndpointIdentifier: `src-${suffix}`.replace(/_/g, '-'), EndpointType: 'source', EngineName: 'mysql' }));
    // One target endpoint per source, its BucketFolder the source's name (the raw zone's <source>/ prefix).
    const targetEndpoint = await dms.send(
      new CreateEndpointCommand({
        EndpointIdentifier: `raw-${suffix}`.replace(/_/g, '-'),
        EndpointType: 'target',
        EngineName: 's3',
        S3Settings: buildS3TargetSettings({ bucket: config.buckets.raw, source, serviceAccessRoleArn: 'arn:aws:iam::123456789012:role/danau-dms-s3' }),
      }),
    );
    arns = {
      replicationInstanceArn: instance.ReplicationInstance!.ReplicationInstanceArn!,
      sourceEndpointArn: sourceEndpoint.Endpoint!.EndpointArn!,
      targetEndpointArn: targetEndpoint.Endpoint!.EndpointArn!,
    };

    connection = await NativeConnection.connect({ address: config.temporal.address });
    adapters = createAdapters(config);
    [worker] = (await createWorkers({ config, connection, adapters, queues: ['control'] })) as [Worker];
    running = worker.run();
    client = await connectClient(config);
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await adapters?.close();
    dms?.destroy();
    await connection?.close();
    await client?.connection.close();
    await controlPlane?.close();
    await db?.drop();
  });

  let run = 0;
  const sync = (input: Partial<SyncDmsTaskInput> = {}) =>
    client.workflow.execute('syncDmsTask', {
      taskQueue: testConfig().temporal.taskQueues.control,
      workflowId: `${WorkflowId.syncDmsTask(source)}/${++run}`,
      args: [{ source, ...arns, pollSeconds: 1, waitMinutes: 1, ...input }],
    }) as Promise<SyncDmsTaskResult>;

  it('creates the task from the control plane and starts it', async () => {
    const result = await sync();
    assert.equal(result.outcome, 'created');
    assert.deepEqual(result.actions, ['created', 'started (start-replication)']);
    assert.equal(result.final.status, 'running');
    assert.equal(result.taskId, replicationTaskId(source));

    const described = await dms.send(new DescribeReplicationTasksCommand({ Filters: [{ Name: 'replication-task-arn', Values: [result.taskArn] }] }));
    const task = described.ReplicationTasks![0]!;
    assert.equal(task.MigrationType, 'full-load-and-cdc');
    const rules = JSON.parse(task.TableMappings!) as { rules: { 'rule-type': string; 'object-locator': { 'schema-name': string; 'table-name': string } }[] };
    const selected = rules.rules.filter((r) => r['rule-type'] === 'selection').map((r) => `${r['object-locator']['schema-name']}.${r['object-locator']['table-name']}`);
    assert.deepEqual(selected, ['clinic.patients']);
  });

  it('leaves a running task whose mappings match alone, then stops and resumes it on request', async () => {
    const again = await sync();
    assert.equal(again.outcome, 'unchanged');
    assert.deepEqual(again.actions, ['unchanged']);
    const stopped = await sync({ desiredState: 'stopped' });
    assert.deepEqual(stopped.actions, ['unchanged', 'stopped']);
    assert.equal(stopped.final.status, 'stopped');
    const resumed = await sync();
    assert.deepEqual(resumed.actions, ['unchanged', 'started (resume-processing)']);
    assert.equal(resumed.final.status, 'running');
  });

  it('fails with a clear, non-retried error for a malformed ARN or an unknown source', async () => {
    await assert.rejects(sync({ targetEndpointArn: 'raw-zone' }), (err: unknown) => {
      const failure = explainFailure(err);
      assert.equal(failure.type, ErrorType.DmsTaskConflict);
      assert.match(failure.message, new RegExp(`task for source ${source}: targetEndpointArn: "raw-zone" is not a DMS ARN`));
      return true;
    });
    // Another source's endpoint (its BucketFolder is that source): the files would mix, so refused.
    const shared = await dms.send(
      new CreateEndpointCommand({
        EndpointIdentifier: `raw-other-${suffix}`.replace(/_/g, '-'),
        EndpointType: 'target',
        EngineName: 's3',
        S3Settings: buildS3TargetSettings({ bucket: testConfig().buckets.raw, source: 'pharmacy', serviceAccessRoleArn: 'arn:aws:iam::123456789012:role/danau-dms-s3' }),
      }),
    );
    await assert.rejects(sync({ targetEndpointArn: shared.Endpoint!.EndpointArn! }), (err: unknown) => {
      const failure = explainFailure(err);
      assert.equal(failure.type, ErrorType.DmsTaskConflict);
      assert.match(failure.message, new RegExp(`has BucketFolder "pharmacy", not "${source}"`));
      return true;
    });
    await assert.rejects(sync({ source: 'nowhere' }), (err: unknown) => {
      const failure = explainFailure(err);
      assert.equal(failure.type, ErrorType.UnknownSource);
      assert.match(failure.message, /source nowhere is not registered/);
      return true;
    });
  });
});
