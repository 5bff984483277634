// The SCD and fact builders' SQL run for real against the stack's PostgreSQL (a scratch database),
// one transaction per build, asserting exact table contents. The expected surrogate keys and row
// hashes are computed here independently (node:crypto) from the documented encoding.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { invariantGuard } from '../../activities/warehouse';
import { seededRandom } from '../../scripts/sample/generator';
import {
  buildFact,
  buildInvariantChecks,
  repointFacts,
  buildScd1,
  buildScd2,
  createTargetTable,
  INFERRED_VALID_FROM,
  type FactSpec,
  type ModelSpec,
  type Scd1Spec,
  type Scd2Spec,
  type TableRef,
} from '../../lib/warehouse/scd';
import { createScratchDatabase, type ScratchDatabase } from '../support/stack';

// --- helpers -------------------------------------------------------------------------------------

/** Timestamps come back as PostgreSQL's text ('2024-01-01 10:00:00'), not as Dates in the local zone. */
const TIMESTAMP_OID = 1114;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === TIMESTAMP_OID ? (v: string) => v : (pg.types.getTypeParser(oid, format) as unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

type Row = Record<string, unknown>;
type Op = 'I' | 'U' | 'D';
type Values = Record<string, string | null>;
interface Change {
  op: Op;
  seq: number;
  /** 'yyyy-MM-dd HH:mm:ss' */
  at: string;
  values: Values;
}

/** change_seq as Danau writes them: fixed-width upper-case hex. */
const seqText = (n: number): string => n.toString(16).toUpperCase().padStart(16, '0');
const change = (op: Op, seq: number, at: string, values: Values): Change => ({ op, seq, at, values });

/** The builders' encoding: `n` for NULL, else `v<length>:<text>`, joined with `|`; then MD5. */
function md5Parts(parts: (string | null)[]): string {
  const encoded = parts.map((p) => (p === null ? 'n' : `v${[...p].length}:${p}`)).join('|');
  return createHash('md5').update(encoded).digest('hex');
}

let client: pg.Client;

async function transaction(statements: string[]): Promise<void> {
  await client.query('BEGIN');
  try {
    for (const sql of statements) await client.query(sql);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

async function rows(sql: string): Promise<Row[]> {
  return (await client.query<Row>(sql)).rows.map((r) => ({ ...r }));
}

/** Replaces a staging table's contents: every column text, as loaded from the lake. */
async function stage(staging: TableRef, columns: string[], changes: Change[]): Promise<void> {
  const table = `${staging.schema}.${staging.table}`;
  const all = [...columns, '_danau_op', '_danau_change_seq', '_danau_commit_ts'];
  await client.query(`CREATE TABLE IF NOT EXISTS ${table} (${all.map((c) => `${c} text`).join(', ')})`);
  await client.query(`TRUNCATE ${table}`);
  for (const c of changes) {
    const values = [...columns.map((col) => c.values[col] ?? null), c.op, seqText(c.seq), `${c.at}.000000`];
    await client.query(`INSERT INTO ${table} VALUES (${all.map((_, i) => `$${i + 1}`).join(', ')})`, values);
  }
}

async function runChecks(spec: ModelSpec): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const check of buildInvariantChecks(spec, 'full')) out[check.name] = await rows(check.sql);
  return out;
}

// --- the scratch database ------------------------------------------------------------------------

let db: ScratchDatabase;

before(async () => {
  db = await createScratchDatabase('danau_test_scd');
  client = new pg.Client({ connectionString: db.url, types });
  await client.connect();
  await client.query('CREATE SCHEMA dw; CREATE SCHEMA stage');
});

after(async () => {
  await client?.end();
  await db?.drop();
});

// --- type 1 --------------------------------------------------------------------------------------

describe('type-1 dimension', () => {
  const spec = (policy: Scd1Spec['deletePolicy']): Scd1Spec => ({
    kind: 'scd1',
    target: { schema: 'dw', table: `dim_doctor_${policy}` },
    staging: { schema: 'stage', table: `doctor_${policy}` },
    naturalKey: [{ name: 'doctor_id', type: 'INTEGER' }],
    columns: [
      { name: 'name', type: 'VARCHAR(128)' },
      { name: 'specialty', type: 'VARCHAR(64)' },
    ],
    surrogateKey: 'doctor_key',
    deletePolicy: policy,
  });
  const columns = ['doctor_id', 'name', 'specialty'];
  const doc = (id: number, name: string, specialty: string): Values => ({ doctor_id: String(id), name, specialty });

  for (const policy of ['soft', 'delete'] as const) {
    describe(`delete policy '${policy}'`, () => {
      const s = spec(policy);
      const build = async (batch: string, changes: Change[]) => {
        await stage(s.staging, columns, changes);
        await transaction(buildScd1(s, batch));
      };
      const table = async () =>
        rows(`SELECT * FROM ${s.target.schema}.${s.target.table} ORDER BY doctor_id`);
      const row = (id: number, name: string | null, specialty: string | null, seq: number, batch: string, at: string, extra: Row = {}): Row => ({
        doctor_key: md5Parts([String(id)]),
        doctor_id: id,
        name,
        specialty,
        ...(policy === 'soft' ? { is_deleted: false } : {}),
        is_inferred: false,
        _danau_change_seq: seqText(seq),
        _danau_batch_id: batch,
        updated_at: at,
        ...extra,
      });

      const b3: Change[] = [
        change('U', 25, '2024-01-01 10:30:00', doc(1, 'Ana', 'pediatrics')), // older than the stored seq 30: ignored
        change('D', 70, '2024-01-03 10:00:00', doc(2, 'Benjamin', 'derm')),
        change('U', 80, '2024-01-03 11:00:00', doc(3, 'Cy', 'ortho II')),
      ];

      before(async () => {
        for (const sql of createTargetTable(s)) await client.query(sql);
      });

      it('inserts new keys', async () => {
        await build('b1', [change('I', 10, '2024-01-01 10:00:00', doc(1, 'Ana', 'cardio')), change('I', 20, '2024-01-01 11:00:00', doc(2, 'Ben', 'derm'))]);
        assert.deepEqual(await table(), [row(1, 'Ana', 'cardio', 10, 'b1', '2024-01-01 10:00:00'), row(2, 'Ben', 'derm', 20, 'b1', '2024-01-01 11:00:00')]);
      });

      it('updates in place; of two changes to a key in a batch the last wins', async () => {
        await build('b2', [
          change('U', 30, '2024-01-02 10:00:00', doc(1, 'Ana', 'neuro')),
          change('U', 40, '2024-01-02 11:00:00', doc(2, 'Ben B', 'derm')),
          change('U', 50, '2024-01-02 12:00:00', doc(2, 'Benjamin', 'derm')),
          change('U', 60, '2024-01-02 13:00:00', doc(3, 'Cy', 'ortho')),
          change('I', 55, '2024-01-02 12:30:00', doc(3, 'Cy', 'orthopedics')),
        ]);
        assert.deepEqual(await table(), [
          row(1, 'Ana', 'neuro', 30, 'b2', '2024-01-02 10:00:00'),
          row(2, 'Benjamin', 'derm', 50, 'b2', '2024-01-02 12:00:00'),
          row(3, 'Cy', 'ortho', 60, 'b2', '2024-01-02 13:00:00'),
        ]);
      });

      const afterB3 = (): Row[] => [
        row(1, 'Ana', 'neuro', 30, 'b2', '2024-01-02 10:00:00'),
        ...(policy === 'soft' ? [row(2, 'Benjamin', 'derm', 70, 'b3', '2024-01-03 10:00:00', { is_deleted: true })] : []),
        row(3, 'Cy', 'ortho II', 80, 'b3', '2024-01-03 11:00:00'),
      ];

      it(`ignores a change older than the stored one; applies a delete (${policy})`, async () => {
        await build('b3', b3);
        assert.deepEqual(await table(), afterB3());
      });

      it('changes nothing when the same batch runs again', async () => {
        await build('b3', b3);
        assert.deepEqual(await table(), afterB3());
      });

      it('brings a deleted key back', async () => {
        await build('b4', [change('I', 90, '2024-01-04 10:00:00', doc(2, 'Ben', 'derm'))]);
        const rows = await table();
        assert.deepEqual(rows[1], row(2, 'Ben', 'derm', 90, 'b4', '2024-01-04 10:00:00'));
      });
    });
  }
});

// --- type 2 --------------------------------------------------------------------------------------

const PATIENT_COLUMNS = ['patient_id', 'city', 'plan', 'name'];

function patientSpec(table: string, policy: Scd2Spec['deletePolicy']): Scd2Spec {
  return {
    kind: 'scd2',
    target: { schema: 'dw', table },
    staging: { schema: 'stage', table },
    naturalKey: [{ name: 'patient_id', type: 'INTEGER' }],
    trackedColumns: [
      { name: 'city', type: 'VARCHAR(64)' },
      { name: 'plan', type: 'VARCHAR(32)' },
    ],
    otherColumns: [{ name: 'name', type: 'VARCHAR(128)' }],
    surrogateKey: 'patient_key',
    deletePolicy: policy,
  };
}

const patient = (id: number, city: string | null, plan: string | null, name: string | null): Values => ({ patient_id: String(id), city, plan, name });

async function buildPatients(spec: Scd2Spec, batch: string, changes: Change[]): Promise<void> {
  await stage(spec.staging, PATIENT_COLUMNS, changes);
  await transaction(buildScd2(spec, batch));
}

async function versions(spec: Scd2Spec): Promise<Row[]> {
  return rows(`SELECT * FROM ${spec.target.schema}.${spec.target.table} ORDER BY patient_id, valid_from, _danau_change_seq`);
}

interface VersionOptions {
  to?: string | null;
  current?: boolean;
  deleted?: boolean;
  key?: string;
}

/** An expected version row of a patient, opened by change `seq`. */
function version(id: number, seq: number, from: string, values: Values, batch: string, o: VersionOptions = {}): Row {
  return {
    patient_key: o.key ?? md5Parts([String(id), seqText(seq)]),
    patient_id: id,
    city: values.city ?? null,
    plan: values.plan ?? null,
    name: values.name ?? null,
    valid_from: from,
    valid_to: o.to ?? null,
    is_current: o.current ?? o.to == null,
    row_hash: md5Parts([values.city ?? null, values.plan ?? null]),
    is_deleted: o.deleted ?? false,
    is_inferred: false,
    _danau_change_seq: seqText(seq),
    _danau_batch_id: batch,
  };
}

describe('type-2 dimension', () => {
  const dv = patientSpec('dim_patient_dv', 'deleted_version');
  const close = patientSpec('dim_patient_close', 'close');
  const both = async (batch: string, changes: Change[]) => {
    await buildPatients(dv, batch, changes);
    await buildPatients(close, batch, changes);
  };
  /** Both tables hold `expected` (they differ only once a key is deleted). */
  const assertBoth = async (expected: Row[]) => {
    assert.deepEqual(await versions(dv), expected);
    assert.deepEqual(await versions(close), expected);
  };

  const berlinBasic = patient(1, 'Berlin', 'basic', 'Ann');
  const berlinPremium = patient(1, 'Berlin', 'premium', 'Ann');
  const berlinPremiumAnna = patient(1, 'Berlin', 'premium', 'Anna');
  const hamburg = patient(1, 'Hamburg', 'basic', 'Ann');
  const munich = patient(1, 'Munich', 'premium', 'Anna');

  before(async () => {
    for (const sql of [...createTargetTable(dv), ...createTargetTable(close)]) await client.query(sql);
  });

  it('opens a first version for a new key', async () => {
    await both('b1', [change('I', 100, '2024-01-01 10:00:00', berlinBasic)]);
    await assertBoth([version(1, 100, '2024-01-01 10:00:00', berlinBasic, 'b1')]);
  });

  it('closes the current version and opens one on a tracked change', async () => {
    await both('b2', [change('U', 200, '2024-01-02 10:00:00', berlinPremium)]);
    await assertBoth([
      version(1, 100, '2024-01-01 10:00:00', berlinBasic, 'b2', { to: '2024-01-02 10:00:00' }),
      version(1, 200, '2024-01-02 10:00:00', berlinPremium, 'b2'),
    ]);
  });

  it('opens no version on a change to other columns, and updates them on the current version', async () => {
    await both('b3', [change('U', 300, '2024-01-03 10:00:00', berlinPremiumAnna)]);
    await assertBoth([
      version(1, 100, '2024-01-01 10:00:00', berlinBasic, 'b2', { to: '2024-01-02 10:00:00' }),
      version(1, 200, '2024-01-02 10:00:00', berlinPremiumAnna, 'b3'),
    ]);
  });

  const p2 = (seq: number, from: string, city: string, plan: string, batch: string, o: VersionOptions = {}) => version(2, seq, from, patient(2, city, plan, 'Bo'), batch, o);
  const patient2AfterB4 = [
    p2(400, '2024-01-04 10:00:00', 'Paris', 'basic', 'b4', { to: '2024-01-05 10:00:00' }),
    p2(410, '2024-01-05 10:00:00', 'Lyon', 'basic', 'b4', { to: '2024-01-06 10:00:00' }),
    p2(420, '2024-01-06 10:00:00', 'Lyon', 'gold', 'b4'),
  ];

  it('makes each of several changes to a key in one batch a version, with contiguous intervals', async () => {
    await both('b4', [
      change('U', 420, '2024-01-06 10:00:00', patient(2, 'Lyon', 'gold', 'Bo')),
      change('I', 400, '2024-01-04 10:00:00', patient(2, 'Paris', 'basic', 'Bo')),
      change('U', 410, '2024-01-05 10:00:00', patient(2, 'Lyon', 'basic', 'Bo')),
    ]);
    await assertBoth([
      version(1, 100, '2024-01-01 10:00:00', berlinBasic, 'b2', { to: '2024-01-02 10:00:00' }),
      version(1, 200, '2024-01-02 10:00:00', berlinPremiumAnna, 'b3'),
      ...patient2AfterB4,
    ]);
  });

  const b5 = [change('U', 150, '2024-01-01 12:00:00', hamburg)];
  const patient1AfterB5 = [
    version(1, 100, '2024-01-01 10:00:00', berlinBasic, 'b5', { to: '2024-01-01 12:00:00' }),
    version(1, 150, '2024-01-01 12:00:00', hamburg, 'b5', { to: '2024-01-02 10:00:00' }),
    version(1, 200, '2024-01-02 10:00:00', berlinPremiumAnna, 'b3'),
  ];

  it('puts a late change at its own time, splitting the interval it falls in, not current', async () => {
    await both('b5', b5);
    await assertBoth([...patient1AfterB5, ...patient2AfterB4]);
  });

  it('changes nothing when a batch runs again, even after later batches', async () => {
    await both('b5', b5);
    await assertBoth([...patient1AfterB5, ...patient2AfterB4]);
    await both('b2', [change('U', 200, '2024-01-02 10:00:00', berlinPremium)]);
    await assertBoth([...patient1AfterB5, ...patient2AfterB4]);
  });

  // Version 200 hides change 300 (same tracked values). A late change between them with other values
  // ends version 200 and must reopen Berlin/premium at 300: the change log knows 300 happened.
  const patient1AfterB6 = [
    ...patient1AfterB5.slice(0, 2),
    version(1, 200, '2024-01-02 10:00:00', berlinPremium, 'b6', { to: '2024-01-02 12:00:00' }),
    version(1, 250, '2024-01-02 12:00:00', munich, 'b6', { to: '2024-01-03 10:00:00' }),
    version(1, 300, '2024-01-03 10:00:00', berlinPremiumAnna, 'b6'),
  ];

  it('reopens a version at the hidden change after a late change inside it', async () => {
    await both('b6', [change('U', 250, '2024-01-02 12:00:00', munich)]);
    await assertBoth([...patient1AfterB6, ...patient2AfterB4]);
  });

  const patient2AfterB7 = [
    p2(400, '2024-01-04 10:00:00', 'Paris', 'basic', 'b7', { to: '2024-01-04 12:00:00' }),
    p2(405, '2024-01-04 12:00:00', 'Nice', 'basic', 'b7', { to: '2024-01-05 10:00:00' }),
    p2(410, '2024-01-05 10:00:00', 'Lyon', 'basic', 'b4', { to: '2024-01-06 10:00:00' }),
    p2(420, '2024-01-06 10:00:00', 'Lyon', 'gold', 'b7', { to: '2024-01-07 10:00:00' }),
    p2(440, '2024-01-07 10:00:00', 'Rome', 'gold', 'b7'),
  ];

  it('makes the newest change of a batch with late ones current', async () => {
    await both('b7', [change('U', 440, '2024-01-07 10:00:00', patient(2, 'Rome', 'gold', 'Bo')), change('U', 405, '2024-01-04 12:00:00', patient(2, 'Nice', 'basic', 'Bo'))]);
    await assertBoth([...patient1AfterB6, ...patient2AfterB7]);
  });

  it('orders by change_seq when a commit time runs backwards: the newest change is current', async () => {
    // Change 510's commit time is before 500's (MariaDB stamps a statement's start, in seconds).
    await both('b8', [change('I', 500, '2024-01-10 10:00:00', patient(3, 'Oslo', 'basic', 'Cy')), change('U', 510, '2024-01-09 10:00:00', patient(3, 'Oslo', 'gold', 'Cy'))]);
    await assertBoth([
      ...patient1AfterB6,
      ...patient2AfterB7,
      version(3, 500, '2024-01-10 10:00:00', patient(3, 'Oslo', 'basic', 'Cy'), 'b8', { to: '2024-01-10 10:00:00' }),
      version(3, 510, '2024-01-10 10:00:00', patient(3, 'Oslo', 'gold', 'Cy'), 'b8'),
    ]);
  });

  const patient3 = [
    version(3, 500, '2024-01-10 10:00:00', patient(3, 'Oslo', 'basic', 'Cy'), 'b8', { to: '2024-01-10 10:00:00' }),
    version(3, 510, '2024-01-10 10:00:00', patient(3, 'Oslo', 'gold', 'Cy'), 'b8'),
  ];
  const deletion = [change('D', 600, '2024-01-20 10:00:00', berlinPremiumAnna)];
  const closedAt600 = version(1, 300, '2024-01-03 10:00:00', berlinPremiumAnna, 'b9', { to: '2024-01-20 10:00:00', current: false });

  it("on a delete closes the current version, and with 'deleted_version' adds a deleted one", async () => {
    await both('b9', deletion);
    assert.deepEqual(await versions(dv), [
      ...patient1AfterB6.slice(0, 4),
      closedAt600,
      version(1, 600, '2024-01-20 10:00:00', berlinPremiumAnna, 'b9', { deleted: true }),
      ...patient2AfterB7,
      ...patient3,
    ]);
    assert.deepEqual(await versions(close), [...patient1AfterB6.slice(0, 4), closedAt600, ...patient2AfterB7, ...patient3]);
    // Run again: unchanged.
    const before = [await versions(dv), await versions(close)];
    await both('b9', deletion);
    assert.deepEqual([await versions(dv), await versions(close)], before);
  });

  it('opens a new version when a deleted key comes back', async () => {
    await both('b10', [change('I', 700, '2024-01-25 10:00:00', berlinPremiumAnna)]);
    const back = version(1, 700, '2024-01-25 10:00:00', berlinPremiumAnna, 'b10');
    assert.deepEqual(await versions(dv), [
      ...patient1AfterB6.slice(0, 4),
      closedAt600,
      version(1, 600, '2024-01-20 10:00:00', berlinPremiumAnna, 'b10', { deleted: true, to: '2024-01-25 10:00:00' }),
      back,
      ...patient2AfterB7,
      ...patient3,
    ]);
    // 'close': a gap from the delete to the comeback.
    assert.deepEqual(await versions(close), [...patient1AfterB6.slice(0, 4), closedAt600, back, ...patient2AfterB7, ...patient3]);
  });

  it("keeps a version's surrogate key when a late change moves its start earlier", async () => {
    const oslo = patient(4, 'Oslo', 'basic', 'Ed');
    const bergen = patient(4, 'Bergen', 'basic', 'Ed');
    await both('b11', [change('I', 800, '2024-02-01 10:00:00', oslo), change('U', 820, '2024-02-03 10:00:00', bergen)]);
    // Change 810 already had Bergen: the Bergen version starts with it, under the key it was given at 820.
    await both('b12', [change('U', 810, '2024-02-02 10:00:00', bergen)]);
    const expected = [
      version(4, 800, '2024-02-01 10:00:00', oslo, 'b12', { to: '2024-02-02 10:00:00' }),
      version(4, 810, '2024-02-02 10:00:00', bergen, 'b12', { key: md5Parts(['4', seqText(820)]) }),
    ];
    assert.deepEqual((await versions(dv)).filter((r) => r.patient_id === 4), expected);
    assert.deepEqual((await versions(close)).filter((r) => r.patient_id === 4), expected);
  });

  it('passes its invariant checks', async () => {
    for (const spec of [dv, close]) {
      for (const [name, offences] of Object.entries(await runChecks(spec))) assert.deepEqual(offences, [], name);
    }
  });
});

// --- type 2 against an independently computed history ---------------------------------------------

const random = seededRandom;

function timestampText(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** ~200 changes over 20 patients: inserts, tracked and untracked updates, no-op updates, deletes, comebacks. */
function randomChangeLog(rand: () => number, count: number): Change[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const cities = ['Oslo', 'Rome', 'Lima', null] as const;
  const plans = ['basic', 'gold'] as const;
  const alive = new Map<number, Values>();
  let at = Date.parse('2024-03-01T08:00:00Z');
  const log: Change[] = [];
  for (let i = 0; i < count; i++) {
    const id = 1 + Math.floor(rand() * 20);
    at += Math.floor(rand() * 4) * 60_000; // 0 to 3 minutes: some changes share a commit time
    const now = alive.get(id);
    let op: Op;
    let values: Values;
    if (!now) {
      op = 'I';
      values = patient(id, pick(cities), pick(plans), `name-${i}`);
    } else {
      const r = rand();
      if (r < 0.1) op = 'D';
      else op = 'U';
      values =
        r < 0.1 ? { ...now }
        : r < 0.5 ? { ...now, ...(rand() < 0.5 ? { city: pick(cities) } : { plan: pick(plans) }) }
        : r < 0.85 ? { ...now, name: `name-${i}` }
        : { ...now };
    }
    if (op === 'D') alive.delete(id);
    else alive.set(id, values);
    log.push(change(op, 10 * (i + 1), timestampText(at), values));
  }
  return log;
}

/** Arrival: in order, 20 a batch, but a fifth of the changes turn up one to four batches late. */
function arrivalBatches(rand: () => number, log: Change[], batches: number): Change[][] {
  const out: Change[][] = Array.from({ length: batches }, () => []);
  const size = Math.ceil(log.length / batches);
  log.forEach((c, i) => {
    const due = Math.floor(i / size);
    const late = rand() < 0.2 ? 1 + Math.floor(rand() * 4) : 0;
    out[Math.min(batches - 1, due + late)]!.push(c);
  });
  return out.map((batch) => batch.sort(() => rand() - 0.5));
}

interface ExpectedVersion {
  row: Row;
  /** Change sequences in the version: its surrogate key is MD5(key, one of them). */
  keys: string[];
}

/** The SCD2 history of a change log, computed from first principles. */
function expectedHistory(log: Change[], policy: Scd2Spec['deletePolicy']): ExpectedVersion[] {
  const byKey = new Map<number, Change[]>();
  for (const c of log) {
    const id = Number(c.values.patient_id);
    byKey.set(id, [...(byKey.get(id) ?? []), c]);
  }
  const out: ExpectedVersion[] = [];
  for (const id of [...byKey.keys()].sort((a, b) => a - b)) {
    const changes = byKey.get(id)!.sort((a, b) => a.seq - b.seq);
    const state = (c: Change) => (c.op === 'D' ? 'deleted' : `live ${c.values.city}/${c.values.plan}`);
    const runs: Change[][] = [];
    for (const c of changes) {
      const last = runs[runs.length - 1];
      if (last && state(last[last.length - 1]!) === state(c)) last.push(c);
      else runs.push([c]);
    }
    runs.forEach((run, i) => {
      const first = run[0]!;
      const newest = run[run.length - 1]!;
      const deleted = newest.op === 'D';
      if (deleted && policy === 'close') return;
      const next = runs[i + 1];
      out.push({
        row: {
          patient_id: id,
          city: newest.values.city ?? null,
          plan: newest.values.plan ?? null,
          name: newest.values.name ?? null,
          valid_from: first.at,
          valid_to: next ? next[0]!.at : null,
          is_current: !next && !deleted ? true : !next && policy === 'deleted_version',
          row_hash: md5Parts([newest.values.city ?? null, newest.values.plan ?? null]),
          is_deleted: deleted,
          is_inferred: false,
          _danau_change_seq: seqText(first.seq),
        },
        keys: run.map((c) => md5Parts([String(id), seqText(c.seq)])),
      });
    });
  }
  return out;
}

describe('type-2 dimension against an independently computed history', () => {
  const log = randomChangeLog(random(20240301), 200);
  const batches = arrivalBatches(random(7), log, 10);

  it('generates a log worth testing', () => {
    const late = batches.slice(1).reduce((n, b, i) => n + b.filter((c) => batches.slice(0, i + 1).some((earlier) => earlier.some((e) => e.seq > c.seq && e.values.patient_id === c.values.patient_id))).length, 0);
    assert.ok(late >= 10, `only ${late} late changes`);
    assert.ok(log.filter((c) => c.op === 'D').length >= 5);
  });

  for (const policy of ['deleted_version', 'close'] as const) {
    it(`matches after every batch, arriving in order with late changes ('${policy}')`, async () => {
      const spec = patientSpec(`dim_random_${policy}`, policy);
      for (const sql of createTargetTable(spec)) await client.query(sql);
      const applied: Change[] = [];
      for (const [i, batch] of batches.entries()) {
        await buildPatients(spec, `r${i}`, batch);
        applied.push(...batch);
        const expected = expectedHistory(applied, policy);
        const actual = await versions(spec);
        const strip = (r: Row): Row => {
          const { patient_key: _key, _danau_batch_id: _batch, ...rest } = r;
          return rest;
        };
        assert.deepEqual(actual.map(strip), expected.map((e) => e.row), `after batch ${i}`);
        actual.forEach((r, j) => assert.ok(expected[j]!.keys.includes(r.patient_key as string), `after batch ${i}: version ${j}'s key is MD5 of none of its changes`));
        assert.equal(new Set(actual.map((r) => r.patient_key)).size, actual.length, 'surrogate keys are unique');
      }
      for (const [name, offences] of Object.entries(await runChecks(spec))) assert.deepEqual(offences, [], name);
      // Any batch again: nothing changes, batch ids included.
      const settled = await versions(spec);
      await buildPatients(spec, 'r3', batches[3]!);
      await buildPatients(spec, 'r9', batches[9]!);
      assert.deepEqual(await versions(spec), settled);
    });
  }
});

// --- facts ---------------------------------------------------------------------------------------

describe('fact table', () => {
  const patients = patientSpec('dim_patient_f', 'close');
  const clinics: Scd1Spec = {
    kind: 'scd1',
    target: { schema: 'dw', table: 'dim_clinic' },
    staging: { schema: 'stage', table: 'clinic' },
    naturalKey: [{ name: 'clinic_id', type: 'INTEGER' }],
    columns: [{ name: 'clinic_name', type: 'VARCHAR(64)' }],
    surrogateKey: 'clinic_key',
    deletePolicy: 'soft',
  };
  const visits: FactSpec = {
    kind: 'fact',
    target: { schema: 'dw', table: 'fact_visit' },
    staging: { schema: 'stage', table: 'visit' },
    factKey: [{ name: 'visit_id', type: 'INTEGER' }],
    columns: [
      { name: 'patient_id', type: 'INTEGER' },
      { name: 'clinic_id', type: 'INTEGER' },
      { name: 'visited_at', type: 'TIMESTAMP' },
      { name: 'amount', type: 'NUMERIC(10,2)' },
    ],
    eventTimeColumn: 'visited_at',
    dimensions: [
      { dimension: patients, keys: [{ factColumn: 'patient_id', dimColumn: 'patient_id' }], as: 'patient_key' },
      { dimension: clinics, keys: [{ factColumn: 'clinic_id', dimColumn: 'clinic_id' }], as: 'clinic_key' },
    ],
  };
  const visitColumns = ['visit_id', 'patient_id', 'clinic_id', 'visited_at', 'amount'];
  const visit = (id: number, patientId: number | null, clinicId: number | null, at: string, amount: string): Values => ({
    visit_id: String(id),
    patient_id: patientId === null ? null : String(patientId),
    clinic_id: clinicId === null ? null : String(clinicId),
    visited_at: at,
    amount,
  });
  const buildVisits = async (batch: string, changes: Change[]) => {
    await stage(visits.staging, visitColumns, changes);
    await transaction(buildFact(visits, batch));
  };
  const buildClinics = async (batch: string, changes: Change[]) => {
    await stage(clinics.staging, ['clinic_id', 'clinic_name'], changes);
    await transaction(buildScd1(clinics, batch));
  };
  const factRows = async () =>
    rows('SELECT visit_id, patient_id, clinic_id, visited_at, amount, patient_key, clinic_key, _danau_change_seq, _danau_batch_id FROM dw.fact_visit ORDER BY visit_id');
  const fact = (id: number, patientId: number | null, clinicId: number | null, at: string, amount: string, patientKey: string | null, clinicKey: string | null, seq: number, batch: string): Row => ({
    visit_id: id,
    patient_id: patientId,
    clinic_id: clinicId,
    visited_at: at,
    amount,
    patient_key: patientKey,
    clinic_key: clinicKey,
    _danau_change_seq: seqText(seq),
    _danau_batch_id: batch,
  });

  const berlin = patient(1, 'Berlin', 'basic', 'Ann');
  const paris = patient(1, 'Paris', 'basic', 'Ann');
  const v1Berlin = md5Parts(['1', seqText(10)]);
  const v1Paris = md5Parts(['1', seqText(20)]);
  const clinic7 = md5Parts(['7']);
  const inferredPatient2 = md5Parts(['2', null]);
  const inferredClinic8 = md5Parts(['8']);

  before(async () => {
    for (const spec of [patients, clinics, visits]) for (const sql of createTargetTable(spec)) await client.query(sql);
    await buildPatients(patients, 'd1', [change('I', 10, '2024-01-01 00:00:00', berlin), change('U', 20, '2024-01-10 00:00:00', paris)]);
    await buildClinics('d1', [change('I', 30, '2024-01-01 00:00:00', { clinic_id: '7', clinic_name: 'North' })]);
  });

  it("creates its dimensions' tables with its own, so a fact built before them can write inferred members", () => {
    // Tables run in parallel: on a first run a fact's pipeline can reach its models before a dimension's.
    const ddl = createTargetTable(visits);
    for (const d of visits.dimensions) for (const sql of createTargetTable(d.dimension)) assert.ok(ddl.includes(sql), `the fact's DDL creates ${d.dimension.target.table}`);
    assert.ok(ddl.some((sql) => /^CREATE TABLE IF NOT EXISTS "dw"\."fact_visit"/.test(sql)));
  });

  it('looks up the dimension version valid at the event time, and infers missing members', async () => {
    await buildVisits('f1', [
      change('I', 100, '2024-02-01 00:00:00', visit(1, 1, 7, '2024-01-05 09:00:00', '10.00')),
      change('I', 110, '2024-02-01 00:00:00', visit(2, 1, 7, '2024-01-15 09:00:00', '20.00')),
      change('I', 120, '2024-02-01 00:00:00', visit(3, 2, 8, '2024-01-07 09:00:00', '30.00')),
      change('I', 130, '2024-02-01 00:00:00', visit(4, 1, null, '2023-12-31 09:00:00', '40.00')), // before patient 1's first version
      change('I', 140, '2024-02-01 00:00:00', visit(5, 1, 7, '2024-01-10 00:00:00', '50.00')), // at the boundary: the new version
    ]);
    assert.deepEqual(await factRows(), [
      fact(1, 1, 7, '2024-01-05 09:00:00', '10.00', v1Berlin, clinic7, 100, 'f1'),
      fact(2, 1, 7, '2024-01-15 09:00:00', '20.00', v1Paris, clinic7, 110, 'f1'),
      fact(3, 2, 8, '2024-01-07 09:00:00', '30.00', inferredPatient2, inferredClinic8, 120, 'f1'),
      fact(4, 1, null, '2023-12-31 09:00:00', '40.00', v1Berlin, null, 130, 'f1'),
      fact(5, 1, 7, '2024-01-10 00:00:00', '50.00', v1Paris, clinic7, 140, 'f1'),
    ]);
    assert.deepEqual(await rows('SELECT patient_key, patient_id, city, valid_from, valid_to, is_current, is_inferred, _danau_change_seq FROM dw.dim_patient_f WHERE patient_id = 2'), [
      { patient_key: inferredPatient2, patient_id: 2, city: null, valid_from: INFERRED_VALID_FROM, valid_to: null, is_current: true, is_inferred: true, _danau_change_seq: null },
    ]);
    assert.deepEqual(await rows('SELECT * FROM dw.dim_clinic WHERE clinic_id = 8'), [
      { clinic_key: inferredClinic8, clinic_id: 8, clinic_name: null, is_deleted: false, is_inferred: true, _danau_change_seq: null, _danau_batch_id: 'f1', updated_at: null },
    ]);
    for (const [name, offences] of Object.entries(await runChecks(visits))) assert.deepEqual(offences, [], name);
  });

  it('completes inferred members when the dimension rows arrive; the fact keeps resolving', async () => {
    await buildPatients(patients, 'd2', [change('I', 40, '2024-01-03 00:00:00', patient(2, 'Rome', 'gold', 'Di'))]);
    await buildClinics('d2', [change('I', 50, '2024-01-03 00:00:00', { clinic_id: '8', clinic_name: 'South' })]);
    // The first real version takes over the inferred member: its key and its early start.
    assert.deepEqual(await versions(patients).then((r) => r.filter((v) => v.patient_id === 2)), [
      version(2, 40, INFERRED_VALID_FROM, patient(2, 'Rome', 'gold', 'Di'), 'd2', { key: inferredPatient2 }),
    ]);
    assert.deepEqual(await rows('SELECT * FROM dw.dim_clinic WHERE clinic_id = 8'), [
      { clinic_key: inferredClinic8, clinic_id: 8, clinic_name: 'South', is_deleted: false, is_inferred: false, _danau_change_seq: seqText(50), _danau_batch_id: 'd2', updated_at: '2024-01-03 00:00:00' },
    ]);
    // A later version: the taken-over one keeps its key and start.
    await buildPatients(patients, 'd3', [change('U', 60, '2024-01-20 00:00:00', patient(2, 'Milan', 'gold', 'Di'))]);
    assert.deepEqual(await versions(patients).then((r) => r.filter((v) => v.patient_id === 2)), [
      version(2, 40, INFERRED_VALID_FROM, patient(2, 'Rome', 'gold', 'Di'), 'd3', { key: inferredPatient2, to: '2024-01-20 00:00:00' }),
      version(2, 60, '2024-01-20 00:00:00', patient(2, 'Milan', 'gold', 'Di'), 'd3'),
    ]);
    assert.deepEqual(
      await rows('SELECT f.visit_id, p.city, c.clinic_name FROM dw.fact_visit f JOIN dw.dim_patient_f p ON p.patient_key = f.patient_key JOIN dw.dim_clinic c ON c.clinic_key = f.clinic_key WHERE f.visit_id = 3'),
      [{ visit_id: 3, city: 'Rome', clinic_name: 'South' }],
    );
    for (const [name, offences] of Object.entries(await runChecks(visits))) assert.deepEqual(offences, [], name);
  });

  const afterF2 = () => [
    fact(1, 1, 7, '2024-01-12 09:00:00', '11.00', v1Paris, clinic7, 210, 'f2'),
    fact(3, 2, 8, '2024-01-07 09:00:00', '30.00', inferredPatient2, inferredClinic8, 120, 'f1'),
    fact(4, 1, null, '2023-12-31 09:00:00', '40.00', v1Berlin, null, 130, 'f1'),
    fact(5, 1, 7, '2024-01-10 00:00:00', '50.00', v1Paris, clinic7, 140, 'f1'),
  ];
  const f2 = [
    change('D', 200, '2024-02-02 00:00:00', visit(2, 1, 7, '2024-01-15 09:00:00', '20.00')),
    change('U', 210, '2024-02-02 00:00:00', visit(1, 1, 7, '2024-01-12 09:00:00', '11.00')), // moved: now in Paris' interval
    change('U', 105, '2024-02-01 00:00:00', visit(5, 1, 7, '2024-01-10 00:00:00', '99.00')), // older than stored: ignored
  ];

  it('deletes and updates facts, ignoring older changes; a rerun changes nothing', async () => {
    await buildVisits('f2', f2);
    assert.deepEqual(await factRows(), afterF2());
    await buildVisits('f2', f2);
    assert.deepEqual(await factRows(), afterF2());
  });

  it('points a fact after its dimension key was deleted at the last version before the event', async () => {
    await buildPatients(patients, 'd4', [
      change('I', 70, '2024-01-01 00:00:00', patient(3, 'Oslo', 'basic', 'Cy')),
      change('U', 75, '2024-01-05 00:00:00', patient(3, 'Bergen', 'basic', 'Cy')),
      change('D', 80, '2024-01-10 00:00:00', patient(3, 'Bergen', 'basic', 'Cy')),
    ]);
    await buildVisits('f3', [change('I', 300, '2024-02-03 00:00:00', visit(6, 3, null, '2024-01-15 09:00:00', '60.00'))]);
    assert.deepEqual((await factRows()).filter((r) => r.visit_id === 6), [fact(6, 3, null, '2024-01-15 09:00:00', '60.00', md5Parts(['3', seqText(75)]), null, 300, 'f3')]);
  });

  it('moves facts to the version a late change opens, and off a completed inferred member, in the build', async () => {
    await buildVisits('f4', [
      change('I', 400, '2024-02-04 00:00:00', visit(7, 1, 7, '2024-01-07 09:00:00', '70.00')), // Berlin's interval, for now
      change('I', 410, '2024-02-04 00:00:00', visit(8, 4, 7, '2024-01-08 09:00:00', '80.00')), // patient 4: not known yet
      change('I', 420, '2024-02-04 00:00:00', visit(9, 4, 7, '2024-01-25 09:00:00', '90.00')),
    ]);
    const keyOf = async (visitId: number) => (await factRows()).find((r) => r.visit_id === visitId)?.patient_key;
    assert.equal(await keyOf(7), v1Berlin);
    assert.equal(await keyOf(9), md5Parts(['4', null]));

    // A late change of patient 1 inside Berlin's interval, and patient 4 arriving with two versions.
    await stage(patients.staging, PATIENT_COLUMNS, [
      change('U', 15, '2024-01-06 00:00:00', patient(1, 'Hamburg', 'basic', 'Ann')),
      change('I', 90, '2024-01-02 00:00:00', patient(4, 'Rome', 'basic', 'Ed')),
      change('U', 95, '2024-01-20 00:00:00', patient(4, 'Milan', 'basic', 'Ed')),
    ]);
    await transaction([...buildScd2(patients, 'd5'), ...repointFacts(patients, visits)]);
    assert.equal(await keyOf(7), md5Parts(['1', seqText(15)]), 'visit 7 falls in the version the late change opened');
    assert.equal(await keyOf(9), md5Parts(['4', seqText(95)]), "visit 9 falls in patient 4's second version");

    // Every fact against the version valid at its event time, found here from the dimension's rows
    // (else the latest that began before it, else the earliest: the lookup's rule for early facts).
    const dimension = await rows('SELECT patient_key, patient_id, valid_from, valid_to FROM dw.dim_patient_f');
    for (const f of await factRows()) {
      if (f.patient_id === null) continue;
      const text = (v: unknown) => (typeof v === 'string' ? v : assert.fail(`expected a timestamp as text, got ${typeof v}`));
      const own = dimension.filter((d) => d.patient_id === f.patient_id).sort((a, b) => text(a.valid_from).localeCompare(text(b.valid_from)));
      const at = text(f.visited_at);
      const valid = own.find((d) => text(d.valid_from) <= at && (d.valid_to === null || at < text(d.valid_to)));
      const before = own.filter((d) => text(d.valid_from) <= at).at(-1);
      assert.equal(f.patient_key, (valid ?? before ?? own[0])?.patient_key, `visit ${String(f.visit_id)} at ${at}`);
    }
    for (const [name, offences] of Object.entries(await runChecks(visits))) assert.deepEqual(offences, [], name);
  });

  it('invariant checks name the offending keys on broken data', async () => {
    // A second current version of patient 1, open since before its Paris version.
    await client.query(`INSERT INTO dw.dim_patient_f (patient_key, patient_id, city, plan, name, valid_from, valid_to, is_current, row_hash, _danau_change_seq, _danau_batch_id)
      VALUES ('${'0'.repeat(32)}', 1, 'Bonn', 'basic', 'Ann', '2024-01-05 00:00:00', NULL, TRUE, '${'0'.repeat(32)}', '${seqText(15)}', 'manual')`);
    // A clinic twice under another key; a fact pointing nowhere; a fact that lost its clinic key.
    await client.query(`INSERT INTO dw.dim_clinic (clinic_key, clinic_id, clinic_name, _danau_batch_id) VALUES ('${'1'.repeat(32)}', 7, 'North again', 'manual')`);
    await client.query(`UPDATE dw.fact_visit SET patient_key = '${'f'.repeat(32)}' WHERE visit_id = 4`);
    await client.query(`UPDATE dw.fact_visit SET clinic_key = NULL WHERE visit_id = 5`);
    assert.deepEqual(Object.values(await runChecks(patients)), [[{ patient_id: 1, current_rows: '2' }], [{ patient_id: 1 }]]);
    assert.deepEqual(Object.values(await runChecks(clinics)), [[{ clinic_id: 7, row_count: '2' }]]);
    assert.deepEqual(await runChecks(visits), {
      'fact_keys_resolve dw.fact_visit.patient_key': [{ visit_id: 4, patient_key: 'f'.repeat(32) }],
      'fact_keys_resolve dw.fact_visit.clinic_key': [{ visit_id: 5, clinic_key: null }],
    });

    // As a build runs them: over the keys its staging table holds. An offence outside the batch is
    // left to the full check; one inside it is found, named as the full check names it.
    const batchChecks = async (spec: ModelSpec, keyColumn: string, keys: string[]) => {
      const staging = `${spec.staging.schema}.${spec.staging.table}`;
      await client.query(`TRUNCATE ${staging}`);
      for (const k of keys) await client.query(`INSERT INTO ${staging} (${keyColumn}) VALUES ($1)`, [k]);
      const out: Row[][] = [];
      for (const check of buildInvariantChecks(spec, 'batch')) out.push(await rows(check.sql));
      return out;
    };
    // A type-2 dimension's two invariants are one read there, each offending key named with the check it breaks.
    assert.deepEqual(await batchChecks(patients, 'patient_id', ['2']), [[]]);
    assert.deepEqual(await batchChecks(patients, 'patient_id', ['2', '1']), [[{ patient_id: 1, _danau_failed_check: 'one_current_version dw.dim_patient_f' }]]);
    // Two closed versions of one key that overlap: no second current version, an overlap.
    await client.query(`INSERT INTO dw.dim_patient_f (patient_key, patient_id, city, plan, name, valid_from, valid_to, is_current, row_hash, _danau_change_seq, _danau_batch_id)
      VALUES ('${'2'.repeat(32)}', 99, 'Bonn', 'basic', 'Zed', '2024-01-01 00:00:00', '2024-03-01 00:00:00', FALSE, '${'0'.repeat(32)}', '${seqText(90)}', 'manual'),
             ('${'3'.repeat(32)}', 99, 'Kiel', 'basic', 'Zed', '2024-02-01 00:00:00', '2024-04-01 00:00:00', FALSE, '${'0'.repeat(32)}', '${seqText(91)}', 'manual')`);
    assert.deepEqual(await batchChecks(patients, 'patient_id', ['99', '2']), [[{ patient_id: 99, _danau_failed_check: 'no_overlapping_versions dw.dim_patient_f' }]]);
    // In a build's transaction the check is a guard that fails the statement, naming the check and the key.
    const [guarded] = buildInvariantChecks(patients, 'batch');
    await assert.rejects(client.query(invariantGuard(guarded!, 'patient_id')), /invariant no_overlapping_versions dw\.dim_patient_f violated for 99/);
    assert.deepEqual(await batchChecks(clinics, 'clinic_id', ['8']), [[]]);
    assert.deepEqual(await batchChecks(clinics, 'clinic_id', ['7']), [[{ clinic_id: 7, row_count: '2' }]]);
    assert.deepEqual(await batchChecks(visits, 'visit_id', ['4']), [[{ visit_id: 4, patient_key: 'f'.repeat(32) }], []]);
  });
});

describe('spec validation', () => {
  it('refuses names and types it would have to trust', () => {
    const base = patientSpec('dim_x', 'close');
    assert.throws(() => buildScd2({ ...base, trackedColumns: [{ name: 'city; DROP TABLE x', type: 'TEXT' }] }, 'b'), /not a valid SQL identifier/);
    assert.throws(() => createTargetTable({ ...base, trackedColumns: [{ name: 'city', type: 'TEXT); DROP TABLE x; --' }] }), /not a column type/);
    assert.throws(() => buildScd2({ ...base, otherColumns: [{ name: 'valid_from', type: 'TEXT' }] }, 'b'), /reserved/);
    assert.throws(() => buildScd2(base, "b'1"), /batch id/);
  });
});
