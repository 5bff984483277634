// The warehouse tables' layout for the builds' access paths, as the statements sent: Redshift is
// reached only through the Data API here, so its DDL is checked as text; PostgreSQL runs it in the
// integration tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTargetTable, type FactSpec, type Scd2Spec } from '../../lib/warehouse/scd';

const patients: Scd2Spec = {
  kind: 'scd2',
  target: { schema: 'dw', table: 'dim_patient' },
  staging: { schema: 'danau_staging', table: 'stg' },
  naturalKey: [{ name: 'patient_id', type: 'BIGINT' }],
  trackedColumns: [{ name: 'city', type: 'VARCHAR(64)' }],
  otherColumns: [],
  surrogateKey: 'patient_key',
  deletePolicy: 'close',
};
const visits: FactSpec = {
  kind: 'fact',
  target: { schema: 'dw', table: 'fact_visit' },
  staging: { schema: 'danau_staging', table: 'stg' },
  factKey: [{ name: 'visit_id', type: 'BIGINT' }],
  columns: [
    { name: 'patient_id', type: 'BIGINT' },
    { name: 'visited_at', type: 'TIMESTAMP' },
  ],
  eventTimeColumn: 'visited_at',
  dimensions: [{ dimension: patients, keys: [{ factColumn: 'patient_id', dimColumn: 'patient_id' }], as: 'patient_key' }],
};

const tail = (sql: string) => sql.split('\n').at(-1);

describe('warehouse table layout', () => {
  it('Redshift: a dimension, its change log and its facts sit on the slice of the natural key, sorted for the builds', () => {
    const [log, dim, ...rest] = createTargetTable(patients, 'redshift');
    assert.equal(rest.length, 0);
    assert.match(log!, /^CREATE TABLE IF NOT EXISTS "dw"\."dim_patient_changes"/);
    assert.equal(tail(log!), 'DISTSTYLE KEY DISTKEY ("patient_id") COMPOUND SORTKEY ("patient_id", "_danau_change_seq")');
    assert.equal(tail(dim!), 'DISTSTYLE KEY DISTKEY ("patient_id") COMPOUND SORTKEY ("patient_id", "valid_from")');
    const fact = createTargetTable(visits, 'redshift').at(-1)!;
    assert.match(fact, /^CREATE TABLE IF NOT EXISTS "dw"\."fact_visit"/);
    assert.equal(tail(fact), 'DISTSTYLE KEY DISTKEY ("patient_id") COMPOUND SORTKEY ("visited_at")');
    assert.ok(!createTargetTable(visits, 'redshift').some((sql) => sql.includes('CREATE INDEX')), 'Redshift has no indexes');
  });

  it('PostgreSQL: the same lookups get indexes, created once', () => {
    const ddl = createTargetTable(visits, 'postgres');
    const indexes = ddl.filter((sql) => sql.startsWith('CREATE INDEX IF NOT EXISTS'));
    assert.deepEqual(
      indexes.map((sql) => sql.replace(/"[^"]*_idx"/, 'IDX')),
      ['CREATE INDEX IF NOT EXISTS IDX ON "dw"."dim_patient" ("patient_id", "valid_from")', 'CREATE INDEX IF NOT EXISTS IDX ON "dw"."fact_visit" ("patient_id")'],
    );
    assert.ok(!ddl.some((sql) => sql.includes('DISTKEY')));
    // Dimensions leave room on each page for in-place (HOT) updates; facts and change logs do not.
    const filled = ddl.filter((sql) => sql.startsWith('CREATE TABLE')).map((sql) => [sql.split('\n')[0], sql.includes('WITH (fillfactor = 90)')]);
    assert.deepEqual(filled, [
      ['CREATE TABLE IF NOT EXISTS "dw"."dim_patient_changes" (', false],
      ['CREATE TABLE IF NOT EXISTS "dw"."dim_patient" (', true],
      ['CREATE TABLE IF NOT EXISTS "dw"."fact_visit" (', false],
    ]);
    assert.deepEqual(createTargetTable(visits, 'postgres'), ddl, 'the same statements every time (IF NOT EXISTS, stable index names)');
  });
});
