// RedshiftDataWarehouse against a real AWS-API endpoint: moto's Redshift Data API from the local
// stack, through the real AWS SDK client. moto 5.2.5 runs no SQL and knows little of the API:
//   - ExecuteStatement records a statement that stays STARTED for ever; CancelStatement moves a
//     STARTED one to ABORTED; DescribeStatement and GetStatementResult answer for any id.
//   - GetStatementResult always returns the same three rows (Number, Street, City) and cannot be
//     fed others (there is no /moto-api/static/ endpoint for it), without NextToken or typeName.
//   - BatchExecuteStatement is not implemented (the server answers 500), StatementName and
//     ClientToken are ignored, and no statement ever FAILs.
// So moto covers submitting a query, recording its id, re-attaching by key, re-running after an
// ABORTED statement and cancelling; and, with DescribeStatement's answer turned to FINISHED on the
// way back (moto never finishes), reading and converting its fixed result. A fake client below
// covers the rest: transactions (BatchExecuteStatement), FAILED with the failing sub-statement,
// ABORTED, re-running after FAILED, paging with NextToken, and values of every type.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  type ColumnMetadata,
  type DescribeStatementResponse,
  type Field,
  type GetStatementResultResponse,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { createRedshiftDataClient } from '../../lib/aws/clients';
import { RedshiftDataWarehouse, clientToken, statementName, type RedshiftTarget } from '../../lib/warehouse/redshift-data';
import { WarehouseError, type StatementLedger } from '../../lib/warehouse/warehouse';
import { testConfig, uniqueSuffix } from '../support/stack';

interface SentCommand {
  command: string;
  input: Record<string, unknown>;
}

/** The ledger as the control plane keeps it, in memory; `puts` shows when ids were recorded. */
class MapLedger implements StatementLedger {
  readonly ids = new Map<string, string>();
  constructor(private readonly log: SentCommand[] = []) {}
  get(key: string): Promise<string | null> {
    return Promise.resolve(this.ids.get(key) ?? null);
  }
  put(key: string, statementId: string): Promise<void> {
    this.ids.set(key, statementId);
    this.log.push({ command: 'ledger.put', input: { key, statementId } });
    return Promise.resolve();
  }
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<WarehouseError> {
  const err = await promise.then(
    () => assert.fail('expected a WarehouseError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WarehouseError, `expected a WarehouseError, got ${String(err)}`);
  assert.match(err.message, pattern);
  return err;
}

const names = (sent: SentCommand[]) => sent.map((c) => c.command);

describe('RedshiftDataWarehouse (Redshift Data API on moto)', () => {
  const config = testConfig();
  const suffix = uniqueSuffix();
  const target: RedshiftTarget = { clusterIdentifier: `danau-test-${suffix}`, database: 'danau', dbUser: 'danau_builder' };
  let redshift: RedshiftDataClient;
  const sent: SentCommand[] = [];

  const sentSince = (mark: number) => sent.slice(mark);
  const key = (name: string) => `build:${name}:${suffix}`;

  before(() => {
    assert.ok(config.aws.apiEndpoint, 'DANAU_AWS_API_ENDPOINT is not set: the stack (scripts/stack/aws-api.sh) provides it');
    redshift = createRedshiftDataClient(config);
    redshift.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push({ command: context.commandName ?? '?', input: { ...(args.input as Record<string, unknown>) } });
        return next(args);
      },
      { step: 'initialize', name: 'danauTestRecordCommands' },
    );
  });

  after(() => redshift?.destroy());

  const statusOf = async (id: string) => (await redshift.send(new DescribeStatementCommand({ Id: id }))).Status;

  it('submits a query under the key, records its id at once, heartbeats while it runs, and cancels it on abort', async () => {
    const mark = sent.length;
    const ledger = new MapLedger(sent);
    const controller = new AbortController();
    const beats: { elapsedMs: number; status: string }[] = [];
    const warehouse = new RedshiftDataWarehouse({ client: redshift, target, ledger, pollMs: 20 });
    const k = key('dim_patient');

    const err = await rejectsWith(
      warehouse.query('SELECT patient_id FROM dim_patient', {
        key: k,
        signal: controller.signal,
        heartbeat: (progress) => {
          beats.push(progress);
          if (beats.length === 3) controller.abort();
        },
      }),
      /^cancelled: build:dim_patient:\S+ \(Redshift statement [0-9a-f-]{36}; CancelStatement sent\)$/,
    );
    const id = ledger.ids.get(k);
    assert.ok(id && err.message.includes(id));
    assert.deepEqual(names(sentSince(mark)), ['ExecuteStatementCommand', 'ledger.put', 'DescribeStatementCommand', 'DescribeStatementCommand', 'DescribeStatementCommand', 'CancelStatementCommand']);
    assert.deepEqual(sentSince(mark)[0]?.input, {
      ClusterIdentifier: target.clusterIdentifier,
      DbUser: 'danau_builder',
      Database: 'danau',
      SecretArn: undefined,
      StatementName: k,
      ClientToken: clientToken(k, null),
      Sql: 'SELECT patient_id FROM dim_patient',
    });
    assert.deepEqual(
      beats.map((b) => b.status),
      ['STARTED', 'STARTED', 'STARTED'],
    );
    assert.equal(await statusOf(id), 'ABORTED');
  });

  it('re-attaches to the running statement of an earlier attempt without submitting again, and re-runs it once it was ABORTED', async () => {
    const k = key('fact_visit');
    const ledger = new MapLedger(sent);
    // What an earlier attempt left behind: its statement running, its id in the ledger.
    const earlier = await redshift.send(new ExecuteStatementCommand({ ClusterIdentifier: target.clusterIdentifier, Database: 'danau', Sql: 'SELECT 1' }));
    assert.ok(earlier.Id);
    ledger.ids.set(k, earlier.Id);
    const warehouse = new RedshiftDataWarehouse({ client: redshift, target, ledger, pollMs: 20 });

    const attach = async () => {
      const mark = sent.length;
      const controller = new AbortController();
      let beats = 0;
      await rejectsWith(warehouse.query('SELECT 1', { key: k, signal: controller.signal, heartbeat: () => ++beats === 2 && controller.abort() }), /^cancelled: /);
      return sentSince(mark);
    };

    const second = await attach();
    assert.deepEqual(names(second), ['DescribeStatementCommand', 'DescribeStatementCommand', 'DescribeStatementCommand', 'CancelStatementCommand']);
    assert.ok(second.every((c) => c.input.Id === earlier.Id));
    assert.equal(ledger.ids.get(k), earlier.Id);
    assert.equal(await statusOf(earlier.Id), 'ABORTED');

    // Now ABORTED: the next attempt runs it anew, under a token derived from the aborted one.
    const third = await attach();
    assert.deepEqual(names(third).slice(0, 3), ['DescribeStatementCommand', 'ExecuteStatementCommand', 'ledger.put']);
    assert.equal(third[1]?.input.ClientToken, clientToken(k, earlier.Id));
    const replacement = ledger.ids.get(k);
    assert.ok(replacement && replacement !== earlier.Id);
    assert.equal(third.at(-1)?.input.Id, replacement);
  });

  it('reads a finished query\'s rows from GetStatementResult, and a retry reads them again without running it', async () => {
    // moto never finishes a statement: DescribeStatement's answer says FINISHED on the way back.
    const finishing: Pick<RedshiftDataClient, 'send'> = {
      send: async (command: { input: object }): Promise<unknown> => {
        const out = (await redshift.send(command as DescribeStatementCommand)) as unknown;
        return command instanceof DescribeStatementCommand ? { ...(out as DescribeStatementResponse), Status: 'FINISHED', HasResultSet: true } : out;
      },
    } as Pick<RedshiftDataClient, 'send'>;
    const k = key('report_cities');
    const ledger = new MapLedger(sent);
    const warehouse = new RedshiftDataWarehouse({ client: finishing, target, ledger, pollMs: 20 });
    // moto's fixed result: no typeName, so Number's longValue is a string as for int8 (exact).
    const expected = [
      { Number: '10', Street: 'Alpha st', City: 'Vancouver' },
      { Number: '50', Street: 'Beta st', City: 'Toronto' },
      { Number: '100', Street: 'Gamma av', City: 'Seattle' },
    ];

    let mark = sent.length;
    assert.deepEqual(await warehouse.query('SELECT number, street, city FROM addresses', { key: k }), expected);
    assert.deepEqual(names(sentSince(mark)), ['ExecuteStatementCommand', 'ledger.put', 'DescribeStatementCommand', 'GetStatementResultCommand']);

    mark = sent.length;
    assert.deepEqual(await warehouse.query('SELECT number, street, city FROM addresses', { key: k }), expected);
    assert.deepEqual(names(sentSince(mark)), ['DescribeStatementCommand', 'GetStatementResultCommand']);
  });
});

// --- what moto cannot do: a fake client answering `send` as the Redshift Data API would ---------

type Answer = (input: Record<string, unknown>) => unknown;
type Kind = 'batch' | 'execute' | 'describe' | 'result' | 'cancel';

function fakeRedshift(answers: Partial<Record<Kind, Answer>>): { client: Pick<RedshiftDataClient, 'send'>; sent: SentCommand[] } {
  const sent: SentCommand[] = [];
  const kinds = [
    [BatchExecuteStatementCommand, 'batch'],
    [ExecuteStatementCommand, 'execute'],
    [DescribeStatementCommand, 'describe'],
    [GetStatementResultCommand, 'result'],
    [CancelStatementCommand, 'cancel'],
  ] as const;
  const send = async (command: { input: object }): Promise<unknown> => {
    await Promise.resolve();
    const kind = kinds.find(([type]) => command instanceof type);
    const input = { ...(command.input as Record<string, unknown>) };
    sent.push({ command: command.constructor.name, input });
    const answer = kind && answers[kind[1]];
    if (!answer) throw new Error(`fake Redshift Data API: no answer for ${command.constructor.name}`);
    return answer(input);
  };
  return { client: { send } as Pick<RedshiftDataClient, 'send'>, sent };
}

/** DescribeStatement answers per statement id, walking through the list one call at a time (the last repeats). */
function described(byId: Record<string, Partial<DescribeStatementResponse>[]>): Answer {
  const calls = new Map<string, number>();
  return (input) => {
    const id = input.Id as string;
    const list = byId[id];
    if (!list) throw Object.assign(new Error(`Query does not exist: ${id}`), { name: 'ResourceNotFoundException' });
    const i = calls.get(id) ?? 0;
    calls.set(id, i + 1);
    return { Id: id, ...list[Math.min(i, list.length - 1)] };
  };
}

const column = (name: string, typeName: string): ColumnMetadata => ({ name, label: name, typeName });

describe('RedshiftDataWarehouse (fake Redshift Data API client: what moto cannot do)', () => {
  const cluster: RedshiftTarget = { clusterIdentifier: 'analytics', database: 'danau', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:danau-builder' };
  const statements = ['DELETE FROM dim_patient WHERE batch_id = 7', 'INSERT INTO dim_patient SELECT * FROM stage_patient', 'ANALYZE dim_patient'];

  it('runs a transaction as one BatchExecuteStatement, records the id before polling, and polls SUBMITTED, PICKED, STARTED to FINISHED', async () => {
    const fake = fakeRedshift({
      batch: () => ({ Id: 'b-1' }),
      describe: described({ 'b-1': [{ Status: 'SUBMITTED' }, { Status: 'PICKED' }, { Status: 'STARTED' }, { Status: 'FINISHED' }] }),
    });
    const ledger = new MapLedger(fake.sent);
    const beats: string[] = [];
    const k = 'build:dim_patient:batch-7';
    await new RedshiftDataWarehouse({ client: fake.client, target: cluster, ledger, pollMs: 1 }).transaction(statements, { key: k, heartbeat: (p) => beats.push(p.status) });

    assert.deepEqual(names(fake.sent), ['BatchExecuteStatementCommand', 'ledger.put', ...Array<string>(4).fill('DescribeStatementCommand')]);
    assert.deepEqual(fake.sent[0]?.input, {
      ClusterIdentifier: 'analytics',
      DbUser: undefined,
      Database: 'danau',
      SecretArn: cluster.secretArn,
      StatementName: k,
      ClientToken: clientToken(k, null),
      Sqls: statements,
      ExecutionMode: 'TRANSACTION',
    });
    assert.equal(ledger.ids.get(k), 'b-1');
    assert.deepEqual(beats, ['SUBMITTED', 'PICKED', 'STARTED', 'FINISHED']);
  });

  it('reports a FAILED batch with Redshift\'s error and the sub-statement that failed', async () => {
    const fake = fakeRedshift({
      batch: () => ({ Id: 'b-2' }),
      describe: described({
        'b-2': [
          { Status: 'STARTED' },
          {
            Status: 'FAILED',
            Error: 'ERROR: relation "stage_patient" does not exist',
            SubStatements: [
              { Id: 'b-2:1', Status: 'FINISHED', QueryString: statements[0] },
              { Id: 'b-2:2', Status: 'FAILED', Error: 'ERROR: relation "stage_patient" does not exist', QueryString: statements[1] },
              { Id: 'b-2:3', Status: 'ABORTED', QueryString: statements[2] },
            ],
          },
        ],
      }),
    });
    const err = await rejectsWith(
      new RedshiftDataWarehouse({ client: fake.client, target: cluster, ledger: new MapLedger(), pollMs: 1 }).transaction(statements, { key: 'build:dim_patient:batch-8' }),
      /^build:dim_patient:batch-8: Redshift statement b-2 failed: ERROR: relation "stage_patient" does not exist; statement 2 of 3 \(b-2:2\) FAILED: ERROR: relation "stage_patient" does not exist\. Statement: INSERT INTO dim_patient SELECT \* FROM stage_patient$/,
    );
    assert.equal(err.sql, statements[1]);
  });

  it('reports an ABORTED statement (cancelled by someone else) as aborted', async () => {
    const fake = fakeRedshift({ execute: () => ({ Id: 'q-aborted' }), describe: described({ 'q-aborted': [{ Status: 'STARTED' }, { Status: 'ABORTED', QueryString: 'SELECT 1' }] }) });
    await rejectsWith(new RedshiftDataWarehouse({ client: fake.client, target: cluster, ledger: new MapLedger(), pollMs: 1 }).query('SELECT 1', { key: 'report:aborted' }), /^report:aborted: Redshift statement q-aborted aborted$/);
    assert.equal(fake.sent.filter((c) => c.command === 'CancelStatementCommand').length, 0);
  });

  it('runs a FAILED statement of an earlier attempt again: a new statement, under a token from the failed one, recorded in the ledger', async () => {
    const k = 'build:dim_patient:batch-9';
    const fake = fakeRedshift({
      batch: () => ({ Id: 'b-new' }),
      describe: described({ 'b-old': [{ Status: 'FAILED', Error: 'ERROR: could not serialize access' }], 'b-new': [{ Status: 'STARTED' }, { Status: 'FINISHED' }] }),
    });
    const ledger = new MapLedger(fake.sent);
    ledger.ids.set(k, 'b-old');
    await new RedshiftDataWarehouse({ client: fake.client, target: cluster, ledger, pollMs: 1 }).transaction(statements, { key: k });

    assert.deepEqual(names(fake.sent), ['DescribeStatementCommand', 'BatchExecuteStatementCommand', 'ledger.put', 'DescribeStatementCommand', 'DescribeStatementCommand']);
    assert.equal(fake.sent[1]?.input.ClientToken, clientToken(k, 'b-old'));
    assert.notEqual(clientToken(k, 'b-old'), clientToken(k, null));
    assert.equal(ledger.ids.get(k), 'b-new');
  });

  it('re-attaches to a FINISHED or running transaction of an earlier attempt instead of running it again', async () => {
    const fake = fakeRedshift({ describe: described({ 'b-done': [{ Status: 'FINISHED' }], 'b-running': [{ Status: 'PICKED' }, { Status: 'STARTED' }, { Status: 'FINISHED' }] }) });
    const ledger = new MapLedger();
    ledger.ids.set('build:a', 'b-done');
    ledger.ids.set('build:b', 'b-running');
    const warehouse = new RedshiftDataWarehouse({ client: fake.client, target: cluster, ledger, pollMs: 1 });
    await warehouse.transaction(statements, { key: 'build:a' });
    await warehouse.transaction(statements, { key: 'build:b' });
    assert.deepEqual(
      fake.sent.map((c) => `${c.command} ${c.input.Id as string}`),
      ['DescribeStatementCommand b-done', 'DescribeStatementCommand b-running', 'DescribeStatementCommand b-running', 'DescribeStatementCommand b-running'],
    );
  });

  it('pages GetStatementResult with NextToken and converts every field by its column\'s type', async () => {
    const columns = [
      column('id', 'int4'),
      column('big', 'int8'),
      column('amount', 'numeric'),
      column('ratio', 'float8'),
      column('flag', 'bool'),
      column('at_tz', 'timestamptz'),
      column('at_local', 'timestamp'),
      column('on_day', 'date'),
      column('label', 'varchar'),
      column('raw', 'varbyte'),
    ];
    const page1: GetStatementResultResponse = {
      ColumnMetadata: columns,
      Records: [
        [
          { longValue: 1 },
          { longValue: 9007199254740991 },
          { stringValue: '12345678901234567890.1234567891' },
          { doubleValue: 0.1 },
          { booleanValue: true },
          { stringValue: '2024-03-01 10:04:05.123456+07' },
          { stringValue: '2024-03-01 10:04:05.5' },
          { stringValue: '2024-02-29' },
          { stringValue: 'héllo' },
          { blobValue: Uint8Array.from([0x0a, 0xff]) },
        ],
      ],
      NextToken: 'page-2',
    };
    const nulls: Field[] = columns.map(() => ({ isNull: true }));
    const page2: GetStatementResultResponse = { Records: [nulls, [{ longValue: 2 }, ...nulls.slice(1)]] };
    const fake = fakeRedshift({
      execute: () => ({ Id: 'q-rows' }),
      describe: described({ 'q-rows': [{ Status: 'FINISHED', HasResultSet: true }] }),
      result: (input) => (input.NextToken === 'page-2' ? page2 : page1),
    });
    const serverless: RedshiftTarget = { workgroupName: 'danau-wg', database: 'danau' };
    const rows = await new RedshiftDataWarehouse({ client: fake.client, target: serverless, ledger: new MapLedger(), pollMs: 1 }).query('SELECT * FROM typed', { key: 'report:typed' });

    const empty = { big: null, amount: null, ratio: null, flag: null, at_tz: null, at_local: null, on_day: null, label: null, raw: null };
    assert.deepEqual(rows, [
      {
        id: 1,
        big: '9007199254740991',
        amount: '12345678901234567890.1234567891',
        ratio: 0.1,
        flag: true,
        at_tz: '2024-03-01T03:04:05.123456Z',
        at_local: '2024-03-01T10:04:05.500000',
        on_day: '2024-02-29',
        label: 'héllo',
        raw: '0aff',
      },
      { id: null, ...empty },
      { id: 2, ...empty },
    ]);
    assert.deepEqual(
      fake.sent.filter((c) => c.command === 'GetStatementResultCommand').map((c) => c.input),
      [
        { Id: 'q-rows', NextToken: undefined },
        { Id: 'q-rows', NextToken: 'page-2' },
      ],
    );
    assert.deepEqual(fake.sent[0]?.input, { WorkgroupName: 'danau-wg', Database: 'danau', SecretArn: undefined, StatementName: 'report:typed', ClientToken: clientToken('report:typed', null), Sql: 'SELECT * FROM typed' });
  });

  it('checks which relations exist with one catalog query (pg_class, as on PostgreSQL), and sends nothing for no names', async () => {
    const fake = fakeRedshift({
      execute: () => ({ Id: 'q-exists' }),
      describe: described({ 'q-exists': [{ Status: 'FINISHED', HasResultSet: true }] }),
      result: () => ({ ColumnMetadata: [column('name', 'name')], Records: [[{ stringValue: 'dim_doctor' }]] }),
    });
    const warehouse = new RedshiftDataWarehouse({ client: fake.client, target: cluster, ledger: new MapLedger(), pollMs: 1 });
    assert.deepEqual(await warehouse.existingRelations('analytics', ['fact_appointment', 'dim_doctor'], { key: 'exists:rpt_daily_appointments:run-1' }), ['dim_doctor']);
    assert.equal(
      fake.sent[0]?.input.Sql,
      "SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relname IN ('fact_appointment', 'dim_doctor') ORDER BY 1",
    );
    const sentBefore = fake.sent.length;
    assert.deepEqual(await warehouse.existingRelations('analytics', [], { key: 'exists:none' }), []);
    assert.equal(fake.sent.length, sentBefore);
  });

  it('returns no rows for a statement without a result set, and cancels even when CancelStatement fails', async () => {
    const fake = fakeRedshift({
      execute: (input) => ({ Id: input.Sql === 'SET x' ? 'q-none' : 'q-slow' }),
      describe: described({ 'q-none': [{ Status: 'FINISHED', HasResultSet: false }], 'q-slow': [{ Status: 'STARTED' }] }),
      cancel: () => {
        throw Object.assign(new Error('Could not cancel a query that is already in FINISHED state'), { name: 'ValidationException' });
      },
    });
    const warehouse = new RedshiftDataWarehouse({ client: fake.client, target: cluster, ledger: new MapLedger(), pollMs: 1 });
    assert.deepEqual(await warehouse.query('SET x', { key: 'q:none' }), []);
    assert.equal(fake.sent.filter((c) => c.command === 'GetStatementResultCommand').length, 0);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await rejectsWith(warehouse.query('SELECT slow()', { key: 'q:slow', signal: controller.signal }), /^cancelled: q:slow \(Redshift statement q-slow; CancelStatement failed: Could not cancel a query that is already in FINISHED state\)$/);
  });

  it('sends nothing for an empty transaction, refuses one of more than 40 statements, and keeps StatementName within 500 characters', async () => {
    const fake = fakeRedshift({});
    const warehouse = new RedshiftDataWarehouse({ client: fake.client, target: cluster, ledger: new MapLedger(), pollMs: 1 });
    await warehouse.transaction([], { key: 'build:nothing' });
    await rejectsWith(warehouse.transaction(Array<string>(41).fill('SELECT 1'), { key: 'build:huge' }), /^build:huge: 41 statements in one transaction; Redshift's BatchExecuteStatement takes at most 40$/);
    assert.deepEqual(fake.sent, []);
    assert.equal(statementName('k'.repeat(600)).length, 500);
    assert.equal(clientToken('k'.repeat(600), null).length, 64);
  });
});
