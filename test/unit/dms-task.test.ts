// The DMS builders, and DmsTaskManager's requests against a fake client. There is no DMS endpoint on
// this machine; what is tested is the request-building logic, which is pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CreateReplicationTaskCommand,
  DescribeEndpointsCommand,
  type DescribeEndpointsCommandOutput,
  DescribeReplicationTasksCommand,
  ModifyReplicationTaskCommand,
  ResourceNotFoundFault,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
  type CreateReplicationTaskCommandOutput,
  type DescribeReplicationTasksCommandOutput,
  type ModifyReplicationTaskCommandOutput,
  type ReplicationTask,
  type StartReplicationTaskCommandOutput,
  type StopReplicationTaskCommandOutput,
} from '@aws-sdk/client-database-migration-service';
import {
  buildS3TargetSettings,
  buildTableMappings,
  buildTaskSettings,
  coversTaskSettings,
  DmsSettingsError,
  DmsTaskManager,
  DmsTaskStateError,
  replicationTaskId,
  sameTableMappings,
  type DmsClient,
  type EnsureTaskInput,
} from '../../lib/capture/dms-task';
import type { TableRecord } from '../../lib/control-plane/store';
import { CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey, loadObjectKey, parseRawKey } from '../../lib/raw-zone/keys';
import type { SourceRecord } from '../../lib/sources/types';

const clinic: SourceRecord = { sourceName: 'clinic', engine: 'mysql', databaseName: 'clinic', connectionSecret: 'DANAU_SOURCE_CLINIC_URL', description: '' };

function table(tableId: number, tableName: string, over: Partial<TableRecord> = {}): TableRecord {
  return {
    tableId,
    sourceName: 'clinic',
    schemaName: 'clinic',
    tableName,
    primaryKey: ['id'],
    precombineField: 'updated_at',
    partitionField: 'created_at',
    hudiTableType: 'COPY_ON_WRITE',
    cleanerCommitsRetained: 15,
    hudiIndexType: 'BLOOM',
    compactionDeltaCommits: 5,
    archiveLevel: 'day',
    archiveAfterDays: 30,
    freshnessSlaMinutes: 15,
    schedule: '*/5 * * * *',
    enabled: true,
    pausedReason: null,
    columns: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

const patients = table(3, 'patients');
const appointments = table(7, 'appointments');

/** Runs `fn`, expects a DmsSettingsError, returns its problems. */
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DmsSettingsError, `expected DmsSettingsError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected an error');
}

describe('DMS table mappings', () => {
  it('selects each enabled table explicitly and adds the change-sequence column, ordered by schema and table', () => {
    const mappings = buildTableMappings(clinic, [patients, table(9, 'doctors', { enabled: false }), appointments]);
    assert.deepEqual(mappings, {
      rules: [
        {
          'rule-type': 'selection',
          'rule-id': '71',
          'rule-name': 'danau-select-7',
          'object-locator': { 'schema-name': 'clinic', 'table-name': 'appointments' },
          'rule-action': 'explicit',
        },
        {
          'rule-type': 'selection',
          'rule-id': '31',
          'rule-name': 'danau-select-3',
          'object-locator': { 'schema-name': 'clinic', 'table-name': 'patients' },
          'rule-action': 'explicit',
        },
        {
          'rule-type': 'transformation',
          'rule-id': '72',
          'rule-name': 'danau-change-seq-7',
          'rule-target': 'column',
          'object-locator': { 'schema-name': 'clinic', 'table-name': 'appointments' },
          'rule-action': 'add-column',
          value: 'dms_change_seq',
          expression: '$AR_H_CHANGE_SEQ',
          'data-type': { type: 'string', length: 50 },
        },
        {
          'rule-type': 'transformation',
          'rule-id': '32',
          'rule-name': 'danau-change-seq-3',
          'rule-target': 'column',
          'object-locator': { 'schema-name': 'clinic', 'table-name': 'patients' },
          'rule-action': 'add-column',
          value: 'dms_change_seq',
          expression: '$AR_H_CHANGE_SEQ',
          'data-type': { type: 'string', length: 50 },
        },
      ],
    });
  });

  it('names the added column as the local capture does', () => {
    const rules = buildTableMappings(clinic, [patients]).rules.filter((r) => r['rule-type'] === 'transformation');
    assert.equal(rules.length, 1);
    assert.equal(rules[0]!['rule-type'] === 'transformation' && rules[0]!.value, CHANGE_SEQ_COLUMN);
  });

  it('keeps rule ids unique, and the rules of existing tables unchanged when a table is onboarded', () => {
    const before = buildTableMappings(clinic, [patients]).rules;
    const after = buildTableMappings(clinic, [patients, appointments, table(12, 'doctors')]).rules;
    for (const rule of before) assert.deepEqual(after.find((r) => r['rule-id'] === rule['rule-id']), rule);
    const ids = after.map((r) => r['rule-id']);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(new Set(after.map((r) => r['rule-name'])).size, ids.length);
    assert.ok(ids.every((id) => /^[1-9]\d*$/.test(id)));
  });

  it('keeps paused tables in: a pause stops the pipeline, not the capture', () => {
    const rules = buildTableMappings(clinic, [table(3, 'patients', { pausedReason: 'column added' })]).rules;
    assert.equal(rules.length, 2);
  });

  it('refuses a table without a primary key, naming the table and the field', () => {
    assert.deepEqual(problemsOf(() => buildTableMappings(clinic, [patients, table(4, 'notes', { primaryKey: [] })])), [
      'table clinic.clinic.notes: primaryKey: the table has no primary key; add one at the source and onboard it again',
    ]);
  });

  it('refuses a source without tables, or with only disabled ones', () => {
    const expected = ['source clinic: tables: no enabled table is onboarded (danau tables add), and DMS needs at least one selection rule'];
    assert.deepEqual(problemsOf(() => buildTableMappings(clinic, [])), expected);
    assert.deepEqual(problemsOf(() => buildTableMappings(clinic, [table(3, 'patients', { enabled: false })])), expected);
  });

  it('refuses tables of another source, duplicates, wildcard characters and bad ids, all at once', () => {
    const problems = problemsOf(() =>
      buildTableMappings(clinic, [
        table(1, 'visits', { sourceName: 'labs' }),
        patients,
        table(3, 'patients'),
        table(5, 'odd%name'),
        table(0, 'zero'),
      ]),
    );
    assert.deepEqual(problems, [
      'table labs.clinic.visits: sourceName: belongs to source labs, not clinic',
      'table clinic.clinic.patients: listed twice',
      'table clinic.clinic.odd%name: tableName: contains % [ or ], which DMS table mappings read as wildcards',
      'table clinic.clinic.zero: tableId: must be a positive integer (got 0)',
    ]);
  });

  it('refuses a table name that, as a DMS locator, also matches another onboarded table', () => {
    // `_` in a locator matches any one character, so the add-column rule for lab_orders would hit labXorders too.
    const problems = problemsOf(() => buildTableMappings(clinic, [table(1, 'lab_orders'), table(2, 'labXorders'), table(3, 'lab_results')]));
    assert.deepEqual(problems, ['table clinic.clinic.lab_orders: tableName: as a DMS locator it also matches table clinic.clinic.labXorders; rename one of them']);
    // The same name in another schema is no clash.
    assert.doesNotThrow(() => buildTableMappings(clinic, [table(1, 'lab_orders'), table(2, 'labXorders', { schemaName: 'other' })]));
  });
});

describe('DMS S3 target settings', () => {
  const role = 'arn:aws:iam::123456789012:role/danau-dms-s3';

  it('writes Parquet with the raw zone columns, date folders and SSE-S3 by default', () => {
    assert.deepEqual(buildS3TargetSettings({ bucket: 'danau-raw', source: 'clinic', serviceAccessRoleArn: role }), {
      BucketName: 'danau-raw',
      BucketFolder: 'clinic',
      ServiceAccessRoleArn: role,
      DataFormat: 'parquet',
      ParquetVersion: 'parquet-2-0',
      EnableStatistics: true,
      ParquetTimestampInMillisecond: false,
      TimestampColumnName: 'dms_commit_ts',
      UseTaskStartTimeForFullLoadTimestamp: true,
      IncludeOpForFullLoad: true,
      DatePartitionEnabled: true,
      DatePartitionSequence: 'YYYYMMDD',
      DatePartitionDelimiter: 'SLASH',
      CdcMaxBatchInterval: 60,
      CdcMinFileSize: 32000,
      AddColumnName: true,
      EncryptionMode: 'sse-s3',
    });
  });

  it('uses the timestamp column the local capture writes', () => {
    assert.equal(buildS3TargetSettings({ bucket: 'danau-raw', source: 'clinic', serviceAccessRoleArn: role }).TimestampColumnName, COMMIT_TS_COLUMN);
  });

  it('uses SSE-KMS with the key when given', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const s = buildS3TargetSettings({ bucket: 'danau-raw', source: 'clinic', serviceAccessRoleArn: role, kmsKeyArn: key });
    assert.equal(s.EncryptionMode, 'sse-kms');
    assert.equal(s.ServerSideEncryptionKmsKeyId, key);
  });

  it('matches the layout keys.ts reads: <source>/<schema>/<table>/LOAD… and …/YYYY/MM/DD/…', () => {
    // DMS names full-load files LOAD00000001… under <BucketFolder>/<schema>/<table>/ and, with
    // YYYYMMDD + SLASH, puts CDC files in <BucketFolder>/<schema>/<table>/YYYY/MM/DD/.
    const folder = buildS3TargetSettings({ bucket: 'danau-raw', source: 'labs', serviceAccessRoleArn: role }).BucketFolder;
    const ref = { source: 'labs', schema: 'public', table: 'lab_orders' };
    assert.equal(loadObjectKey(ref, 1), `${folder}/public/lab_orders/LOAD00000001.parquet`);
    const key = cdcObjectKey(ref, '2026-11-23 04:05:06.123456', '00000001');
    assert.ok(key.startsWith(`${folder}/public/lab_orders/2026/11/23/`));
    assert.equal(parseRawKey(key).date, '2026-11-23');
    assert.equal(parseRawKey(key).source, 'labs');
  });

  it('refuses bad options, naming each field', () => {
    assert.deepEqual(
      problemsOf(() => buildS3TargetSettings({ bucket: 'Danau_Raw', source: 'raw/labs', serviceAccessRoleArn: 'danau-role', kmsKeyArn: 'alias/raw' })),
      [
        'S3 target: bucket: "Danau_Raw" is not an S3 bucket name',
        'S3 target: source: "raw/labs" is not a source name',
        'S3 target: serviceAccessRoleArn: "danau-role" is not an IAM role ARN',
        'S3 target: kmsKeyArn: "alias/raw" is not a KMS key ARN',
      ],
    );
  });
});

describe('DMS task identifier and settings', () => {
  const validDmsIdentifier = (id: string) => id.length <= 255 && /^[A-Za-z][A-Za-z0-9-]*$/.test(id) && !id.includes('--') && !id.endsWith('-');

  it('is the source name when it is already a valid identifier', () => {
    assert.equal(replicationTaskId('clinic'), 'danau-cdc-clinic');
    assert.equal(replicationTaskId('labs2'), 'danau-cdc-labs2');
  });

  it('cleans other names, with a hash so that names that clean up alike stay apart', () => {
    assert.match(replicationTaskId('clinic_eu'), /^danau-cdc-clinic-eu-[0-9a-f]{8}$/);
    assert.notEqual(replicationTaskId('a_b'), replicationTaskId('a__b'));
    assert.equal(replicationTaskId('clinic_eu'), replicationTaskId('clinic_eu'));
    for (const name of ['clinic_eu', 'a__b', '9lives', 'UPPER', '_x_', '___', 'x'.repeat(300), 'pasién-ñ']) {
      const id = replicationTaskId(name);
      assert.ok(validDmsIdentifier(id), `${name} -> ${id}`);
      assert.equal(id, id.toLowerCase());
    }
  });

  it('refuses an empty source name', () => {
    assert.deepEqual(problemsOf(() => replicationTaskId('')), ['source: sourceName: is empty']);
  });

  it('applies changes one by one, never drops raw files, stops on a bad row, and logs', () => {
    const s = buildTaskSettings();
    assert.equal(s.TargetMetadata.BatchApplyEnabled, false);
    assert.equal(s.TargetMetadata.FullLobMode, true);
    assert.equal(s.FullLoadSettings.TargetTablePrepMode, 'DO_NOTHING');
    assert.equal(s.ChangeProcessingDdlHandlingPolicy.HandleSourceTableTruncated, false);
    assert.equal(s.ChangeProcessingDdlHandlingPolicy.HandleSourceTableDropped, false);
    assert.equal(s.ErrorBehavior.DataErrorPolicy, 'STOP_TASK');
    assert.equal(s.Logging.EnableLogging, true);
  });
});

describe('comparing with what DMS holds', () => {
  const wanted = buildTableMappings(clinic, [patients, appointments]);

  it('ignores what DMS adds or reorders, and numbers echoed as text', () => {
    const echoed = {
      rules: [...wanted.rules].reverse().map((r) =>
        r['rule-type'] === 'selection' ? { ...r, filters: [], 'parallel-load': null } : { ...r, 'data-type': { type: 'string', length: '50' } },
      ),
    };
    assert.ok(sameTableMappings(wanted, JSON.stringify(echoed)));
  });

  it('sees a table added, removed or changed', () => {
    assert.ok(!sameTableMappings(wanted, JSON.stringify(buildTableMappings(clinic, [patients]))));
    assert.ok(!sameTableMappings(buildTableMappings(clinic, [patients]), JSON.stringify(wanted)));
    const renamed = JSON.parse(JSON.stringify(wanted)) as { rules: { 'object-locator': { 'table-name': string } }[] };
    renamed.rules[0]!['object-locator']['table-name'] = 'appointment';
    assert.ok(!sameTableMappings(wanted, JSON.stringify(renamed)));
    const filtered = JSON.parse(JSON.stringify(wanted)) as { rules: Record<string, unknown>[] };
    filtered.rules[0]!.filters = [{ 'filter-type': 'source', 'column-name': 'id' }];
    assert.ok(!sameTableMappings(wanted, JSON.stringify(filtered)));
    assert.ok(!sameTableMappings(wanted, undefined));
    assert.ok(!sameTableMappings(wanted, 'not json'));
  });

  it('accepts task settings with DMS defaults filled in, and sees a changed value', () => {
    const s = buildTaskSettings();
    const withDefaults = { ...s, TargetMetadata: { ...s.TargetMetadata, TargetSchema: '', ParallelLoadThreads: 0 }, StreamBufferSettings: { StreamBufferCount: 3 } };
    assert.ok(coversTaskSettings(s, JSON.stringify(withDefaults)));
    assert.ok(!coversTaskSettings(s, JSON.stringify({ ...s, FullLoadSettings: { TargetTablePrepMode: 'DROP_AND_CREATE' } })));
  });
});

// ---------------------------------------------------------------------------------------------

type Command = DescribeEndpointsCommand | DescribeReplicationTasksCommand | CreateReplicationTaskCommand | ModifyReplicationTaskCommand | StartReplicationTaskCommand | StopReplicationTaskCommand;
type Output = DescribeEndpointsCommandOutput | DescribeReplicationTasksCommandOutput | CreateReplicationTaskCommandOutput | ModifyReplicationTaskCommandOutput | StartReplicationTaskCommandOutput | StopReplicationTaskCommandOutput;

/** Records each command's name and input, and answers from replies queued per command name. */
class FakeDms implements DmsClient {
  readonly calls: { name: string; input: unknown }[] = [];
  private readonly replies = new Map<string, (Output | Error)[]>();

  reply(name: string, ...replies: (Output | Error)[]): this {
    this.replies.set(name, [...(this.replies.get(name) ?? []), ...replies]);
    return this;
  }

  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  send(command: DescribeEndpointsCommand): Promise<DescribeEndpointsCommandOutput>;
  send(command: DescribeReplicationTasksCommand): Promise<DescribeReplicationTasksCommandOutput>;
  send(command: CreateReplicationTaskCommand): Promise<CreateReplicationTaskCommandOutput>;
  send(command: ModifyReplicationTaskCommand): Promise<ModifyReplicationTaskCommandOutput>;
  send(command: StartReplicationTaskCommand): Promise<StartReplicationTaskCommandOutput>;
  send(command: StopReplicationTaskCommand): Promise<StopReplicationTaskCommandOutput>;
  send(command: Command): Promise<Output> {
    const name = command.constructor.name;
    this.calls.push({ name, input: command.input });
    const next = this.replies.get(name)?.shift();
    if (next === undefined) return Promise.reject(new Error(`fake DMS: no reply queued for ${name}`));
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
}

const arn = (kind: string, id: string) => `arn:aws:dms:eu-west-1:123456789012:${kind}:${id}`;
const TASK_ARN = arn('task', 'ABCDEFGHIJ');
const input: EnsureTaskInput = {
  source: clinic,
  tables: [patients, appointments],
  replicationInstanceArn: arn('rep', 'INSTANCE1'),
  sourceEndpointArn: arn('endpoint', 'SOURCE1'),
  targetEndpointArn: arn('endpoint', 'TARGET1'),
  migrationType: 'full-load-and-cdc',
};
const notFound = () => new ResourceNotFoundFault({ message: 'No Tasks found matching provided filters', $metadata: {} });
const tasks = (...ReplicationTasks: ReplicationTask[]): DescribeReplicationTasksCommandOutput => ({ $metadata: {}, ReplicationTasks });
const withTask = (task: ReplicationTask) => ({ $metadata: {}, ReplicationTask: task });

function existingTask(over: Partial<ReplicationTask> = {}): ReplicationTask {
  return {
    ReplicationTaskIdentifier: 'danau-cdc-clinic',
    ReplicationTaskArn: TASK_ARN,
    ReplicationInstanceArn: input.replicationInstanceArn,
    SourceEndpointArn: input.sourceEndpointArn,
    TargetEndpointArn: input.targetEndpointArn,
    MigrationType: 'full-load-and-cdc',
    TableMappings: JSON.stringify(buildTableMappings(clinic, [patients, appointments])),
    ReplicationTaskSettings: JSON.stringify({ ...buildTaskSettings(), StreamBufferSettings: { StreamBufferCount: 3 } }),
    Status: 'stopped',
    ...over,
  };
}

const describeInput = { Filters: [{ Name: 'replication-task-id', Values: ['danau-cdc-clinic'] }], WithoutSettings: false };

describe('DmsTaskManager.ensureTask', () => {
  it('creates the task when DMS has none, with the built mappings and settings as JSON', async () => {
    const dms = new FakeDms()
      .reply('DescribeReplicationTasksCommand', notFound())
      .reply('CreateReplicationTaskCommand', withTask({ ReplicationTaskArn: TASK_ARN, Status: 'creating' }));
    const result = await new DmsTaskManager(dms).ensureTask(input);
    assert.deepEqual(result, { taskId: 'danau-cdc-clinic', taskArn: TASK_ARN, outcome: 'created', status: 'creating' });
    assert.deepEqual(dms.names(), ['DescribeReplicationTasksCommand', 'CreateReplicationTaskCommand']);
    assert.deepEqual(dms.calls[0]!.input, describeInput);
    const created = dms.calls[1]!.input as Record<string, unknown>;
    assert.deepEqual(
      { ...created, TableMappings: JSON.parse(created.TableMappings as string) as unknown, ReplicationTaskSettings: JSON.parse(created.ReplicationTaskSettings as string) as unknown },
      {
        ReplicationTaskIdentifier: 'danau-cdc-clinic',
        ReplicationInstanceArn: input.replicationInstanceArn,
        SourceEndpointArn: input.sourceEndpointArn,
        TargetEndpointArn: input.targetEndpointArn,
        MigrationType: 'full-load-and-cdc',
        TableMappings: buildTableMappings(clinic, [patients, appointments]),
        ReplicationTaskSettings: buildTaskSettings(),
        Tags: [{ Key: 'danau:source', Value: 'clinic' }],
      },
    );
  });

  it('also creates it when DMS answers with an empty list', async () => {
    const dms = new FakeDms()
      .reply('DescribeReplicationTasksCommand', tasks())
      .reply('CreateReplicationTaskCommand', withTask({ ReplicationTaskArn: TASK_ARN, Status: 'creating' }));
    assert.equal((await new DmsTaskManager(dms).ensureTask({ ...input, migrationType: 'cdc' })).outcome, 'created');
    assert.equal((dms.calls[1]!.input as { MigrationType: string }).MigrationType, 'cdc');
  });

  it('leaves a task whose mappings and settings already match alone, even while it runs', async () => {
    const dms = new FakeDms().reply('DescribeReplicationTasksCommand', tasks(existingTask({ Status: 'running' })));
    assert.deepEqual(await new DmsTaskManager(dms).ensureTask(input), { taskId: 'danau-cdc-clinic', taskArn: TASK_ARN, outcome: 'unchanged', status: 'running' });
    assert.deepEqual(dms.names(), ['DescribeReplicationTasksCommand']);
  });

  it('modifies a stopped task whose mappings differ', async () => {
    const dms = new FakeDms()
      .reply('DescribeReplicationTasksCommand', tasks(existingTask({ TableMappings: JSON.stringify(buildTableMappings(clinic, [patients])) })))
      .reply('ModifyReplicationTaskCommand', withTask({ ReplicationTaskArn: TASK_ARN, Status: 'modifying' }));
    assert.deepEqual(await new DmsTaskManager(dms).ensureTask(input), { taskId: 'danau-cdc-clinic', taskArn: TASK_ARN, outcome: 'modified', status: 'modifying' });
    assert.deepEqual(dms.names(), ['DescribeReplicationTasksCommand', 'ModifyReplicationTaskCommand']);
    const modified = dms.calls[1]!.input as { ReplicationTaskArn: string; TableMappings: string; ReplicationTaskSettings: string };
    assert.equal(modified.ReplicationTaskArn, TASK_ARN);
    assert.deepEqual(JSON.parse(modified.TableMappings), buildTableMappings(clinic, [patients, appointments]));
    assert.deepEqual(JSON.parse(modified.ReplicationTaskSettings), buildTaskSettings());
  });

  it('modifies a ready task whose settings differ', async () => {
    const dms = new FakeDms()
      .reply('DescribeReplicationTasksCommand', tasks(existingTask({ Status: 'ready', ReplicationTaskSettings: JSON.stringify({ TargetMetadata: { BatchApplyEnabled: true } }) })))
      .reply('ModifyReplicationTaskCommand', withTask({ ReplicationTaskArn: TASK_ARN, Status: 'modifying' }));
    assert.equal((await new DmsTaskManager(dms).ensureTask(input)).outcome, 'modified');
  });

  it('refuses to modify a running task, saying to stop it first', async () => {
    const dms = new FakeDms().reply('DescribeReplicationTasksCommand', tasks(existingTask({ Status: 'running', TableMappings: JSON.stringify(buildTableMappings(clinic, [patients])) })));
    await assert.rejects(
      new DmsTaskManager(dms).ensureTask(input),
      (err: unknown) => err instanceof DmsTaskStateError && err.status === 'running' && /DMS task danau-cdc-clinic is running .*stop it first/.test(err.message),
    );
    assert.deepEqual(dms.names(), ['DescribeReplicationTasksCommand']);
  });

  it('refuses to modify a task that is busy being created', async () => {
    const dms = new FakeDms().reply('DescribeReplicationTasksCommand', tasks(existingTask({ Status: 'creating', TableMappings: '{}' })));
    await assert.rejects(new DmsTaskManager(dms).ensureTask(input), /DMS task danau-cdc-clinic is creating: it can be modified only when ready, stopped or failed/);
  });

  it('refuses a task that points at other endpoints, naming them', async () => {
    const other = arn('endpoint', 'SOURCE2');
    const dms = new FakeDms().reply('DescribeReplicationTasksCommand', tasks(existingTask({ SourceEndpointArn: other })));
    await assert.rejects(new DmsTaskManager(dms).ensureTask(input), (err: unknown) => {
      assert.ok(err instanceof DmsTaskStateError);
      assert.match(err.message, new RegExp(`source endpoint is ${other}, wanted ${input.sourceEndpointArn}`));
      assert.match(err.message, /delete the task/);
      return true;
    });
  });

  it('checks its input before calling DMS', async () => {
    const dms = new FakeDms();
    await assert.rejects(new DmsTaskManager(dms).ensureTask({ ...input, targetEndpointArn: 'TARGET1' }), (err: unknown) => {
      assert.ok(err instanceof DmsSettingsError);
      assert.deepEqual(err.problems, ['task for source clinic: targetEndpointArn: "TARGET1" is not a DMS ARN']);
      return true;
    });
    await assert.rejects(new DmsTaskManager(dms).ensureTask({ ...input, tables: [table(4, 'notes', { primaryKey: [] })] }), /table clinic\.clinic\.notes: primaryKey:/);
    assert.deepEqual(dms.calls, []);
  });

  it('passes other DMS errors on', async () => {
    const denied = Object.assign(new Error('not authorized to perform dms:DescribeReplicationTasks'), { name: 'AccessDeniedFault' });
    const dms = new FakeDms().reply('DescribeReplicationTasksCommand', denied);
    await assert.rejects(new DmsTaskManager(dms).ensureTask(input), (err: unknown) => err === denied);
  });
});

describe('DmsTaskManager start, stop and describe', () => {
  it('starts and stops by ARN', async () => {
    const dms = new FakeDms()
      .reply('StartReplicationTaskCommand', withTask({ Status: 'starting' }))
      .reply('StopReplicationTaskCommand', withTask({ Status: 'stopping' }));
    const manager = new DmsTaskManager(dms);
    assert.equal(await manager.start(TASK_ARN, 'resume-processing'), 'starting');
    assert.equal(await manager.stop(TASK_ARN), 'stopping');
    assert.deepEqual(dms.calls, [
      { name: 'StartReplicationTaskCommand', input: { ReplicationTaskArn: TASK_ARN, StartReplicationTaskType: 'resume-processing' } },
      { name: 'StopReplicationTaskCommand', input: { ReplicationTaskArn: TASK_ARN } },
    ]);
  });

  it('describes a task as a small plain object', async () => {
    const dms = new FakeDms().reply(
      'DescribeReplicationTasksCommand',
      tasks(
        existingTask({
          Status: 'stopped',
          StopReason: 'Stop Reason RECOVERABLE_ERROR',
          LastFailureMessage: 'Last Error Table clinic.notes was errored',
          ReplicationTaskStats: { FullLoadProgressPercent: 100, TablesLoaded: 2, TablesLoading: 0, TablesQueued: 0, TablesErrored: 1, StartDate: new Date() },
        }),
      ),
    );
    assert.deepEqual(await new DmsTaskManager(dms).describe(TASK_ARN), {
      taskId: 'danau-cdc-clinic',
      taskArn: TASK_ARN,
      status: 'stopped',
      stopReason: 'Stop Reason RECOVERABLE_ERROR',
      lastFailureMessage: 'Last Error Table clinic.notes was errored',
      fullLoadProgressPercent: 100,
      tablesLoaded: 2,
      tablesLoading: 0,
      tablesQueued: 0,
      tablesErrored: 1,
    });
    assert.deepEqual(dms.calls[0]!.input, { Filters: [{ Name: 'replication-task-arn', Values: [TASK_ARN] }], WithoutSettings: true });
  });

  it('adds CDC latency from a latency reader when one is given', async () => {
    const dms = new FakeDms().reply('DescribeReplicationTasksCommand', tasks(existingTask({ Status: 'running' })));
    const asked: string[] = [];
    const manager = new DmsTaskManager(dms, {
      latency: (taskArn) => {
        asked.push(taskArn);
        return Promise.resolve({ sourceSeconds: 2, targetSeconds: 41 });
      },
    });
    const status = await manager.describe(TASK_ARN);
    assert.equal(status.cdcLatencySourceSeconds, 2);
    assert.equal(status.cdcLatencyTargetSeconds, 41);
    assert.equal(status.fullLoadProgressPercent, null);
    assert.deepEqual(asked, [TASK_ARN]);
  });

  it('says so when the task does not exist', async () => {
    const dms = new FakeDms().reply('DescribeReplicationTasksCommand', notFound());
    await assert.rejects(new DmsTaskManager(dms).describe(TASK_ARN), (err: unknown) => err instanceof DmsTaskStateError && err.message === `DMS task ${TASK_ARN} does not exist`);
  });
});

describe('DMS target endpoint of a source', () => {
  const role = 'arn:aws:iam::123456789012:role/danau-dms-s3';
  const endpoint = (source: string, bucket = 'danau-raw') => ({
    $metadata: {},
    Endpoints: [{ EndpointArn: arn('endpoint', 'TARGET1'), EngineName: 's3', S3Settings: buildS3TargetSettings({ bucket, source, serviceAccessRoleArn: role }) }],
  });

  it("accepts an endpoint whose BucketFolder is the source's name", async () => {
    const dms = new FakeDms().reply('DescribeEndpointsCommand', endpoint('labs'));
    await new DmsTaskManager(dms).checkTargetEndpoint('labs', arn('endpoint', 'TARGET1'), 'danau-raw');
    assert.deepEqual(dms.calls[0]!.input, { Filters: [{ Name: 'endpoint-arn', Values: [arn('endpoint', 'TARGET1')] }] });
  });

  it("refuses another source's endpoint, or one with no folder or another bucket, saying how to fix it", async () => {
    const check = (reply: DescribeEndpointsCommandOutput) => new DmsTaskManager(new FakeDms().reply('DescribeEndpointsCommand', reply)).checkTargetEndpoint('pharmacy', arn('endpoint', 'TARGET1'), 'danau-raw');
    await assert.rejects(check(endpoint('labs')), (err: Error) => err instanceof DmsSettingsError && /BucketFolder "labs", not "pharmacy".*BucketFolder pharmacy/.test(err.message));
    const noFolder = endpoint('labs');
    delete noFolder.Endpoints[0]!.S3Settings.BucketFolder;
    await assert.rejects(check(noFolder), /BucketFolder "", not "pharmacy"/);
    await assert.rejects(check(endpoint('pharmacy', 'other-bucket')), /writes to bucket other-bucket, not the raw bucket danau-raw/);
    await assert.rejects(check({ $metadata: {}, Endpoints: [] }), /endpoint .* does not exist/);
  });
});
