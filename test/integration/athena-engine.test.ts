// AthenaQueryEngine against a real AWS-API endpoint: moto's Athena from the local stack, through the
// real AWS SDK client. moto runs no SQL: each StartQueryExecution takes the next result from a queue
// filled through moto's HTTP API (POST /moto-api/static/athena/query-results), per account and
// region, and a query is SUCCEEDED at its first GetQueryExecution. Every run uses an account of its
// own (moto's `x-moto-account-id` header), so its queue and work group are its own even when another
// run shares the server. What moto cannot do is covered with a fake client below: a FAILED query
// (moto has no FAILED state), a query still QUEUED/RUNNING when polled, result pages with NextToken
// (moto returns every row in one page and ignores MaxResults), and re-attaching to an earlier
// attempt's query by ClientRequestToken (moto ignores the token).
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateWorkGroupCommand,
  DeleteWorkGroupCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
  type GetQueryExecutionOutput,
  type GetQueryResultsOutput,
  type QueryExecutionStatus,
  type Row,
} from '@aws-sdk/client-athena';
import { createAthenaClient } from '../../lib/aws/clients';
import { AthenaQueryEngine, athenaRequestToken, convertValue } from '../../lib/lake/athena';
import { LakeQueryError, type LakeTableRef } from '../../lib/lake/query';
import { testConfig, uniqueSuffix } from '../support/stack';

const DATABASE = 'danau_lake_test';
const OUTPUT = 's3://danau-processed/_danau/athena-results/';

interface SentCommand {
  command: string;
  input: Record<string, unknown>;
}

const patients: LakeTableRef = { name: 'clinic_clinic_patients', basePath: 's3://danau-processed/clinic/clinic/patients/', tableType: 'COPY_ON_WRITE' };
const visits: LakeTableRef = { name: 'clinic_clinic_visits', basePath: 's3://danau-processed/clinic/clinic/visits/', tableType: 'MERGE_ON_READ' };

/** A row as Athena sends it: undefined is NULL (a Datum without VarCharValue). */
function row(...values: (string | undefined)[]): Row {
  return { Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })) };
}

function column(name: string, type: string, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return { CatalogName: 'hive', SchemaName: '', TableName: '', Name: name, Label: name, Type: type, Precision: 0, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: false, ...extra };
}

function headerRow(columns: ColumnInfo[]): Row {
  return row(...columns.map((c) => c.Name));
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<LakeQueryError> {
  const err = await promise.then(
    () => assert.fail('expected a LakeQueryError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof LakeQueryError, `expected a LakeQueryError, got ${String(err)}`);
  assert.match(err.message, pattern);
  return err;
}

describe('AthenaQueryEngine (Athena API on moto)', () => {
  const config = testConfig();
  const suffix = uniqueSuffix();
  const account = String(randomInt(100_000_000_000, 999_999_999_999));
  const workGroup = `danau-test-${suffix}`;
  let athena: AthenaClient;
  const sent: SentCommand[] = [];
  /** Called with each command's name and output, after moto answered. */
  let afterCommand: ((command: string, output: unknown) => void) | undefined;

  async function queueResults(...results: { rows: Row[]; columns: ColumnInfo[] }[]): Promise<void> {
    const response = await fetch(`${config.aws.apiEndpoint}/moto-api/static/athena/query-results`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ account_id: account, region: config.s3.region, results: results.map((r) => ({ rows: r.rows, column_info: r.columns })) }),
    });
    assert.equal(response.status, 201, await response.text());
  }

  function sentSince(mark: number, command?: string): SentCommand[] {
    return sent.slice(mark).filter((c) => !command || c.command === command);
  }

  const engine = (pollMs = 10) => new AthenaQueryEngine({ client: athena, database: DATABASE, workGroup, outputLocation: OUTPUT, pollMs });

  before(async () => {
    assert.ok(config.aws.apiEndpoint, 'DANAU_AWS_API_ENDPOINT is not set: the stack (scripts/stack/aws-api.sh) provides it');
    athena = createAthenaClient(config);
    athena.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? '?';
        sent.push({ command, input: { ...(args.input as Record<string, unknown>) } });
        const out = await next(args);
        afterCommand?.(command, out.output);
        return out;
      },
      { step: 'initialize', name: 'danauTestRecordCommands' },
    );
    athena.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-moto-account-id'] = account;
        return next(args);
      },
      { step: 'build', name: 'danauTestMotoAccount' },
    );
    await athena.send(new CreateWorkGroupCommand({ Name: workGroup, Configuration: { ResultConfiguration: { OutputLocation: OUTPUT } } }));
  });

  after(async () => {
    if (athena) {
      await athena.send(new DeleteWorkGroupCommand({ WorkGroup: workGroup })).catch(() => undefined);
      athena.destroy();
    }
  });

  it('runs the SQL in the database and work group, skips the header row and converts each value by its column type', async () => {
    const columns = [
      column('id', 'integer'),
      column('mrn', 'bigint'),
      column('fee', 'decimal', { Precision: 12, Scale: 2 }),
      column('name', 'varchar'),
      column('active', 'boolean'),
      column('updated_at', 'timestamp'),
      column('born', 'date'),
      column('score', 'double'),
    ];
    await queueResults({
      columns,
      rows: [
        headerRow(columns),
        row('1', '9007199254740991', '150000.00', 'Dewi 陈美玲 😀', 'true', '2026-11-23 04:05:06.123', '1990-02-03', '1.5'),
        // NULLs, an empty string (not NULL), a timestamp with microseconds, NaN.
        row('2', undefined, undefined, '', 'false', '2026-11-23 04:05:06.123456', undefined, 'NaN'),
        row('3', '-7', '-0.50', undefined, undefined, '2026-01-01 00:00:00', '2026-01-01', '-1.0E10'),
      ],
    });
    const mark = sent.length;
    const sql = `SELECT * FROM ${patients.name} ORDER BY id -- ${suffix}`;
    const result = await engine().query([patients], sql, { requestToken: `wf-${suffix}:activity-1` });

    assert.deepEqual(result.columns, ['id', 'mrn', 'fee', 'name', 'active', 'updated_at', 'born', 'score']);
    assert.deepEqual(result.rows, [
      { id: 1, mrn: 9007199254740991, fee: 150000, name: 'Dewi 陈美玲 😀', active: true, updated_at: '2026-11-23T04:05:06.123Z', born: '1990-02-03', score: 1.5 },
      { id: 2, name: '', active: false, updated_at: '2026-11-23T04:05:06.123Z', score: 'NaN' },
      { id: 3, mrn: -7, fee: -0.5, updated_at: '2026-01-01T00:00:00.000Z', born: '2026-01-01', score: -1e10 },
    ]);
    assert.equal(result.truncated, false);
    assert.deepEqual(result.incremental, []);

    const [start, ...moreStarts] = sentSince(mark, 'StartQueryExecutionCommand');
    assert.equal(moreStarts.length, 0);
    assert.equal(start!.input.QueryString, sql);
    assert.deepEqual(start!.input.QueryExecutionContext, { Database: DATABASE });
    assert.equal(start!.input.WorkGroup, workGroup);
    assert.deepEqual(start!.input.ResultConfiguration, { OutputLocation: OUTPUT });
    const token = start!.input.ClientRequestToken as string;
    assert.equal(token, athenaRequestToken(`wf-${suffix}:activity-1`, sql, { database: DATABASE, workGroup, outputLocation: OUTPUT }));
    assert.ok(token.length >= 32 && token.length <= 128, `token length ${token.length}`);

    // moto recorded the query as run, in our work group and database.
    const queryId = sentSince(mark, 'GetQueryResultsCommand')[0]!.input.QueryExecutionId as string;
    const seen = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }));
    assert.equal(seen.QueryExecution?.Status?.State, 'SUCCEEDED');
    assert.equal(seen.QueryExecution?.WorkGroup, workGroup);
    assert.equal(seen.QueryExecution?.QueryExecutionContext?.Database, DATABASE);
  });

  it('derives the request token from the caller token and the SQL, and leaves it to the SDK without one', async () => {
    const sql = `SELECT 1 AS one -- ${suffix}`;
    const mark = sent.length;
    await engine().query([], sql, { requestToken: 'attempt-stable' });
    await engine().query([], sql, { requestToken: 'attempt-stable' });
    await engine().query([], `${sql} `, { requestToken: 'attempt-stable' });
    await engine().query([], sql, { requestToken: 'another-run' });
    await engine().query([], sql);
    const tokens = sentSince(mark, 'StartQueryExecutionCommand').map((c) => c.input.ClientRequestToken);
    assert.equal(tokens.length, 5);
    assert.equal(tokens[0], tokens[1], 'same caller token and SQL: same Athena token');
    assert.notEqual(tokens[2], tokens[0], 'the SQL is part of the token');
    assert.notEqual(tokens[3], tokens[0], 'the caller token is part of the token');
    // Without a caller token the SDK fills in a random one when it serialises the request, after this recorder.
    assert.equal(tokens[4], undefined);
  });

  it('stops at maxRows and says the result was truncated', async () => {
    const columns = [column('n', 'integer')];
    const five = { columns, rows: [headerRow(columns), row('1'), row('2'), row('3'), row('4'), row('5')] };
    await queueResults(five, five, five);
    const mark = sent.length;

    const three = await engine().query([patients], `SELECT n FROM ${patients.name} -- ${suffix} a`, { maxRows: 3 });
    assert.deepEqual(three.rows, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.equal(three.truncated, true);
    // One more than wanted, plus the header: how it knows there is more without reading everything.
    assert.deepEqual(
      sentSince(mark, 'GetQueryResultsCommand').map((c) => c.input.MaxResults),
      [5],
    );

    const all = await engine().query([patients], `SELECT n FROM ${patients.name} -- ${suffix} b`, { maxRows: 5 });
    assert.equal(all.rows.length, 5);
    assert.equal(all.truncated, false);

    const none = await engine().query([patients], `SELECT n FROM ${patients.name} -- ${suffix} c`, { maxRows: 0 });
    assert.deepEqual(none.rows, []);
    assert.deepEqual(none.columns, ['n']);
    assert.equal(none.truncated, true);
  });

  it('keeps the first row of a DDL statement, which has no header row', async () => {
    const columns = [column('tab_name', 'string')];
    await queueResults({ columns, rows: [row('tab_name'), row('clinic_clinic_patients')] });
    const result = await engine().query([], `SHOW TABLES IN ${DATABASE} '*${suffix}*'`);
    assert.deepEqual(result.rows, [{ tab_name: 'tab_name' }, { tab_name: 'clinic_clinic_patients' }]);
  });

  it('stops the query on abort and throws "cancelled"', async () => {
    const controller = new AbortController();
    let queryId: string | undefined;
    afterCommand = (command, output) => {
      if (command !== 'StartQueryExecutionCommand') return;
      queryId = (output as { QueryExecutionId?: string }).QueryExecutionId;
      controller.abort(); // the activity is cancelled while the query runs
    };
    const mark = sent.length;
    try {
      await rejectsWith(engine().query([patients], `SELECT * FROM ${patients.name} -- ${suffix} abort`, { signal: controller.signal }), /^cancelled: Athena query .* \(stopped\)/);
    } finally {
      afterCommand = undefined;
    }
    assert.ok(queryId);
    assert.deepEqual(
      sentSince(mark, 'StopQueryExecutionCommand').map((c) => c.input.QueryExecutionId),
      [queryId],
    );
    assert.deepEqual(sentSince(mark, 'GetQueryResultsCommand'), []);
    const seen = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }));
    assert.equal(seen.QueryExecution?.Status?.State, 'CANCELLED');
  });

  it('starts nothing when the signal is already aborted', async () => {
    const mark = sent.length;
    await rejectsWith(engine().query([patients], 'SELECT 1', { signal: AbortSignal.abort() }), /^cancelled: before the Athena query was started/);
    assert.deepEqual(sentSince(mark), []);
  });

  it('refuses an incremental read with a clear error, before starting anything', async () => {
    const mark = sent.length;
    const incremental: LakeTableRef = { ...visits, incremental: { beginInstant: '20261123040506000' } };
    const err = await rejectsWith(engine().query([patients, incremental], `SELECT * FROM ${visits.name}_changes`), /clinic_clinic_visits_changes/);
    assert.match(err.message, /Athena cannot read clinic_clinic_visits incrementally/);
    assert.match(err.message, /lake job on EMR/);
    assert.deepEqual(sentSince(mark), []);
  });
});

// --- what moto cannot do: a fake client answering `send` as Athena would ------------------------

type Answer = (input: Record<string, unknown>) => unknown;

function fakeAthena(answers: Partial<Record<'start' | 'get' | 'results' | 'stop', Answer>>): { client: Pick<AthenaClient, 'send'>; sent: SentCommand[] } {
  const sent: SentCommand[] = [];
  const kinds = [
    [StartQueryExecutionCommand, 'start'],
    [GetQueryExecutionCommand, 'get'],
    [GetQueryResultsCommand, 'results'],
    [StopQueryExecutionCommand, 'stop'],
  ] as const;
  const send = async (command: { input: object }): Promise<unknown> => {
    await Promise.resolve();
    const kind = kinds.find(([type]) => command instanceof type);
    const input = { ...(command.input as Record<string, unknown>) };
    sent.push({ command: command.constructor.name, input });
    const answer = kind && answers[kind[1]];
    if (!answer) throw new Error(`fake Athena: no answer for ${command.constructor.name}`);
    return answer(input);
  };
  return { client: { send }, sent };
}

/** GetQueryExecution answers that walk through these statuses, one per call (the last repeats). */
function statuses(...list: QueryExecutionStatus[]): Answer {
  let i = 0;
  return (input): GetQueryExecutionOutput => ({
    QueryExecution: { QueryExecutionId: input.QueryExecutionId as string, StatementType: 'DML', Status: list[Math.min(i++, list.length - 1)] },
  });
}

describe('AthenaQueryEngine (fake Athena client: what moto cannot do)', () => {
  const options = { database: DATABASE, workGroup: 'primary', pollMs: 1 };

  it('polls through QUEUED and RUNNING, and reports a FAILED query with Athena\'s reason and the query id', async () => {
    const fake = fakeAthena({
      start: () => ({ QueryExecutionId: 'q-failed-1' }),
      get: statuses(
        { State: 'QUEUED' },
        { State: 'RUNNING' },
        {
          State: 'FAILED',
          StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nme' cannot be resolved",
          AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false, ErrorMessage: "Column 'nme' cannot be resolved" },
        },
      ),
    });
    const err = await rejectsWith(new AthenaQueryEngine({ client: fake.client, ...options }).query([patients], `SELECT nme FROM ${patients.name}`), /q-failed-1/);
    assert.equal(err.message, "Athena query q-failed-1 failed: COLUMN_NOT_FOUND: line 1:8: Column 'nme' cannot be resolved (error type 1006)");
    assert.deepEqual(
      fake.sent.map((c) => c.command),
      ['StartQueryExecutionCommand', 'GetQueryExecutionCommand', 'GetQueryExecutionCommand', 'GetQueryExecutionCommand'],
    );
  });

  it('reports a query cancelled by someone else while it ran, and does not start it again', async () => {
    const fake = fakeAthena({ start: () => ({ QueryExecutionId: 'q-cancelled-1' }), get: statuses({ State: 'RUNNING' }, { State: 'CANCELLED', StateChangeReason: 'Query cancelled by user' }) });
    await rejectsWith(
      new AthenaQueryEngine({ client: fake.client, ...options }).query([patients], 'SELECT 1', { requestToken: 'r' }),
      /^Athena query q-cancelled-1 was cancelled: Query cancelled by user$/,
    );
    assert.equal(fake.sent.filter((c) => c.command === 'StartQueryExecutionCommand').length, 1);
  });

  it('names the _rt/_ro tables when a failed query used the bare name of a MERGE_ON_READ table', async () => {
    const fake = fakeAthena({
      start: () => ({ QueryExecutionId: 'q-mor' }),
      get: statuses({ State: 'FAILED', StateChangeReason: `TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.${DATABASE}.${visits.name}' does not exist` }),
    });
    await rejectsWith(
      new AthenaQueryEngine({ client: fake.client, ...options }).query([patients, visits], `SELECT * FROM ${visits.name}`),
      /TABLE_NOT_FOUND.*; note: clinic_clinic_visits is MERGE_ON_READ, which Glue has only as clinic_clinic_visits_rt \/ clinic_clinic_visits_ro$/,
    );
  });

  it('starts a new query when the token leads back to an earlier attempt\'s cancelled query, under a token a later retry derives too', async () => {
    const run = async () => {
      const started: string[] = [];
      const fake = fakeAthena({
        // Athena: the first token is the earlier attempt's query, stopped when that attempt was cancelled.
        start: (input) => {
          started.push(input.ClientRequestToken as string);
          return { QueryExecutionId: started.length === 1 ? 'q-old' : 'q-new' };
        },
        get: (input) =>
          input.QueryExecutionId === 'q-old'
            ? { QueryExecution: { QueryExecutionId: 'q-old', StatementType: 'DML', Status: { State: 'CANCELLED', CompletionDateTime: new Date(Date.now() - 60_000) } } }
            : { QueryExecution: { QueryExecutionId: 'q-new', StatementType: 'DML', Status: { State: 'SUCCEEDED' } } },
        results: (): GetQueryResultsOutput => ({ ResultSet: { ResultSetMetadata: { ColumnInfo: [column('one', 'integer')] }, Rows: [row('one'), row('1')] } }),
      });
      const result = await new AthenaQueryEngine({ client: fake.client, ...options }).query([], 'SELECT 1 AS one', { requestToken: 'wf-1:act-1' });
      assert.deepEqual(result.rows, [{ one: 1 }]);
      return started;
    };
    const first = await run();
    assert.equal(first.length, 2);
    assert.equal(first[0], athenaRequestToken('wf-1:act-1', 'SELECT 1 AS one', { database: DATABASE, workGroup: 'primary' }));
    assert.notEqual(first[1], first[0]);
    assert.match(first[1]!, /^danau-[0-9a-f]{64}$/);
    assert.deepEqual(await run(), first, 'a retry derives the same tokens');
  });

  it('re-attaches to a non-retryable failure of an earlier attempt instead of running it again', async () => {
    const fake = fakeAthena({
      start: () => ({ QueryExecutionId: 'q-syntax' }),
      get: statuses({ State: 'FAILED', StateChangeReason: 'SYNTAX_ERROR', CompletionDateTime: new Date(Date.now() - 60_000), AthenaError: { ErrorCategory: 2, Retryable: false } }),
    });
    await rejectsWith(new AthenaQueryEngine({ client: fake.client, ...options }).query([], 'SELEC 1', { requestToken: 'r' }), /q-syntax failed: SYNTAX_ERROR/);
    assert.equal(fake.sent.filter((c) => c.command === 'StartQueryExecutionCommand').length, 1);
  });

  it('starts a new query when the token leads back to an earlier attempt\'s retryable failure', async () => {
    const fake = fakeAthena({
      start: (input) => ({ QueryExecutionId: input.ClientRequestToken === athenaRequestToken('r', 'SELECT 1', { database: DATABASE, workGroup: 'primary' }) ? 'q-old' : 'q-new' }),
      get: (input) => ({
        QueryExecution: {
          QueryExecutionId: input.QueryExecutionId as string,
          StatementType: 'DML',
          Status:
            input.QueryExecutionId === 'q-old'
              ? { State: 'FAILED', StateChangeReason: 'INTERNAL_ERROR_QUERY_ENGINE', CompletionDateTime: new Date(Date.now() - 60_000), AthenaError: { ErrorCategory: 1, Retryable: true } }
              : { State: 'SUCCEEDED' },
        },
      }),
      results: (): GetQueryResultsOutput => ({ ResultSet: { ResultSetMetadata: { ColumnInfo: [] }, Rows: [] } }),
    });
    const result = await new AthenaQueryEngine({ client: fake.client, ...options }).query([], 'SELECT 1', { requestToken: 'r' });
    assert.deepEqual(result, { columns: [], rows: [], truncated: false, incremental: [] });
    assert.deepEqual(
      fake.sent.filter((c) => c.command === 'GetQueryExecutionCommand').map((c) => c.input.QueryExecutionId),
      ['q-old', 'q-new'],
    );
  });

  it('pages with NextToken, skips the header only on the first page and stops at maxRows across pages', async () => {
    const columns = [column('code', 'varchar'), column('n', 'integer')];
    const pages: Record<string, GetQueryResultsOutput> = {
      first: { ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [headerRow(columns), row('a', '1'), row('b', '2')] }, NextToken: 'p2' },
      // A data row that reads like the header: only the first page has one.
      p2: { ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('code', 'n'), row('c', '3')] }, NextToken: 'p3' },
      p3: { ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('d', '4'), row('e', '5')] } },
    };
    const fake = () =>
      fakeAthena({
        start: () => ({ QueryExecutionId: 'q-pages' }),
        get: statuses({ State: 'SUCCEEDED' }),
        results: (input) => pages[(input.NextToken as string | undefined) ?? 'first'],
      });

    const all = fake();
    const everything = await new AthenaQueryEngine({ client: all.client, ...options }).query([], 'SELECT code, n FROM t');
    assert.deepEqual(everything.rows, [
      { code: 'a', n: 1 },
      { code: 'b', n: 2 },
      { code: 'code', n: 'n' }, // 'n' is not a number: kept as text rather than lost
      { code: 'c', n: 3 },
      { code: 'd', n: 4 },
      { code: 'e', n: 5 },
    ]);
    assert.equal(everything.truncated, false);
    assert.deepEqual(
      all.sent.filter((c) => c.command === 'GetQueryResultsCommand').map((c) => [c.input.NextToken, c.input.MaxResults]),
      [
        [undefined, 1000],
        ['p2', 1000],
        ['p3', 1000],
      ],
    );

    const some = fake();
    const four = await new AthenaQueryEngine({ client: some.client, ...options }).query([], 'SELECT code, n FROM t', { maxRows: 4 });
    assert.deepEqual(
      four.rows.map((r) => r.code),
      ['a', 'b', 'code', 'c'],
    );
    assert.equal(four.truncated, true);
    // 4 + 1 wanted, + the header on the first page; then only what is still missing.
    assert.deepEqual(
      some.sent.filter((c) => c.command === 'GetQueryResultsCommand').map((c) => [c.input.NextToken, c.input.MaxResults]),
      [
        [undefined, 6],
        ['p2', 3],
        ['p3', 1],
      ],
    );

    const exact = fake();
    const six = await new AthenaQueryEngine({ client: exact.client, ...options }).query([], 'SELECT code, n FROM t', { maxRows: 6 });
    assert.equal(six.rows.length, 6);
    assert.equal(six.truncated, false);
  });

  it('converts the other Athena types as Spark\'s toJSON gives them', () => {
    assert.equal(convertValue('2026-11-23 11:05:06.123 Asia/Jakarta', 'timestamp with time zone'), '2026-11-23T04:05:06.123Z');
    assert.equal(convertValue('2026-11-23 04:05:06.5 UTC', 'timestamp(3) with time zone'), '2026-11-23T04:05:06.500Z');
    assert.equal(convertValue('2026-03-08 03:30:00.000 America/New_York', 'timestamp with time zone'), '2026-03-08T07:30:00.000Z');
    assert.equal(convertValue('2026-11-23 11:05:06 +07:00', 'timestamp with time zone'), '2026-11-23T04:05:06.000Z');
    assert.equal(convertValue('2026-11-23 11:05:06 Not/AZone', 'timestamp with time zone'), '2026-11-23 11:05:06 Not/AZone');
    assert.equal(convertValue('0999-01-02 03:04:05.6', 'timestamp'), '0999-01-02T03:04:05.600Z');
    assert.equal(convertValue('00 ff 61', 'varbinary'), 'AP9h');
    assert.deepEqual(convertValue('{"a":[1,null]}', 'json'), { a: [1, null] });
    assert.equal(convertValue('Infinity', 'double'), 'Infinity');
    assert.equal(convertValue('2.5', 'real'), 2.5);
    assert.equal(convertValue('12', 'tinyint'), 12);
    assert.equal(convertValue('-1234567890123456789012345678.0123456789', 'decimal(38,10)'), -1.2345678901234569e27); // what Spark's engine gives too (read as a double)
    assert.equal(convertValue('[1, 2]', 'array(integer)'), '[1, 2]');
    assert.equal(convertValue('{x=1, y=z}', 'row(x integer, y varchar)'), '{x=1, y=z}');
    assert.equal(convertValue('04:05:06.123', 'time'), '04:05:06.123');
    assert.equal(convertValue('abc  ', 'char(5)'), 'abc  ');
  });
});
