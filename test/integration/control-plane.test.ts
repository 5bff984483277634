// The control plane's migrations and store, against the stack's real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { migrate, readMigrations } from '../../lib/control-plane/migrate';
import { ControlPlane } from '../../lib/control-plane/store';
import { checkAgainstSource, parseTableDefinition, TableDefinitionError } from '../../lib/tables/definition';
import { createScratchDatabase, type ScratchDatabase } from '../support/stack';

describe('control-plane migrations', () => {
  let db: ScratchDatabase;
  let pool: pg.Pool;
  before(async () => {
    db = await createScratchDatabase('danau_test_migrate');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  it('creates the schema the architecture names, once', async () => {
    const all = readMigrations().map((m) => m.version);
    assert.deepEqual(await migrate(pool), all);
    assert.deepEqual(await migrate(pool), []);
    const { rows } = await pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    const names = rows.map((r) => r.table_name);
    for (const t of ['sources', 'tables', 'checkpoints', 'models', 'reporting_objects', 'archives', 'archive_entries', 'failed_events', 'audit_log', 'schema_migrations']) {
      assert.ok(names.includes(t), `missing table ${t}`);
    }
  });

  it('runs safely when two migrators start at once', async () => {
    const other = await createScratchDatabase('danau_test_migrate_race');
    const a = new pg.Pool({ connectionString: other.url, max: 1 });
    const b = new pg.Pool({ connectionString: other.url, max: 1 });
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      assert.equal(ra.length + rb.length, readMigrations().length);
    } finally {
      await a.end();
      await b.end();
      await other.drop();
    }
  });

  it('refuses a migration that was edited after it was applied', async () => {
    const edited = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    await assert.rejects(migrate(pool, edited), /was edited after it was applied/);
  });

  it('0010 gives each column recorded before lake names a lake name equal to its source name (issue 12)', async () => {
    const other = await createScratchDatabase('danau_test_migrate_0010');
    const p = new pg.Pool({ connectionString: other.url, max: 1 });
    try {
      await migrate(p, readMigrations().filter((m) => m.version < 10));
      await p.query("INSERT INTO sources (source_name, engine, database_name, connection_env) VALUES ('clinic', 'mysql', 'clinic', 'X')");
      await p.query(
        `INSERT INTO tables (source_name, schema_name, table_name, primary_key, precombine_field, partition_field, columns)
         VALUES ('clinic', 'clinic', 'patients', '{PatientID}', 'updated_at', 'updated_at', $1)`,
        [JSON.stringify([{ name: 'PatientID', sourceType: 'int', lakeType: 'int', nullable: false }, { name: 'updated_at', sourceType: 'datetime', lakeType: 'timestamp', nullable: false }])],
      );
      await migrate(p);
      const { rows } = await p.query<{ columns: { name: string; lakeName: string }[] }>('SELECT columns FROM tables');
      assert.deepEqual(rows[0]!.columns.map((c) => [c.name, c.lakeName]), [['PatientID', 'PatientID'], ['updated_at', 'updated_at']]);
    } finally {
      await p.end();
      await other.drop();
    }
  });

  it('rolls back a failing migration and names it', async () => {
    const broken = [...readMigrations(), { version: 9999, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT 1/0;', checksum: 'x' }];
    await assert.rejects(migrate(pool, broken), /migration 9999_broken failed: division by zero/);
    const { rowCount } = await pool.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'");
    assert.equal(rowCount, 0);
  });
});

describe('control-plane store', () => {
  let db: ScratchDatabase;
  let cp: ControlPlane;
  before(async () => {
    db = await createScratchDatabase('danau_test_store');
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    await migrate(pool);
    await pool.end();
    cp = ControlPlane.connect(db.url);
  });
  after(async () => {
    await cp.close();
    await db.drop();
  });

  const found = {
    schema: 'clinic',
    table: 'doctors',
    primaryKey: ['doctor_id'],
    columns: [
      { name: 'doctor_id', dataType: 'int', columnType: 'int(11)', nullable: false, numericPrecision: null, numericScale: null },
      { name: 'updated_at', dataType: 'datetime', columnType: 'datetime(3)', nullable: false, numericPrecision: null, numericScale: null },
    ],
  };

  it('records a table once, audits each change, and reports unchanged re-runs', async () => {
    assert.equal(await cp.upsertSource({ name: 'clinic', engine: 'mysql', database: 'clinic', connectionSecret: 'DANAU_SOURCE_CLINIC_URL', description: '' }, 'test'), 'created');
    const def = parseTableDefinition({ source: 'clinic', schema: 'clinic', table: 'doctors', precombineField: 'updated_at', partitionField: 'updated_at' });
    const check = checkAgainstSource(def, 'mysql', found);
    const first = await cp.recordTable(def, check.primaryKey, check.columns, 'test');
    const second = await cp.recordTable(def, check.primaryKey, check.columns, 'test');
    assert.equal(first.outcome, 'created');
    assert.equal(second.outcome, 'unchanged');
    assert.equal(second.table.tableId, first.table.tableId);
    const changed = await cp.recordTable({ ...def, hudiTableType: 'MERGE_ON_READ' }, check.primaryKey, check.columns, 'test');
    assert.equal(changed.outcome, 'updated');
    assert.equal(changed.table.hudiTableType, 'MERGE_ON_READ');
    const trail = await cp.auditTrail('table:clinic.clinic.doctors');
    assert.deepEqual(trail.map((a) => a.action), ['table.created', 'table.updated']);
    assert.equal((await cp.listTables()).length, 1);
  });

  it('saves checkpoints only while the guarding one still holds the expected window', async () => {
    await cp.saveCheckpoints([{ pipeline: 'capture', subject: 'src', position: '0/10', details: { pendingEnd: '0/20' } }]);
    const stale = await cp.saveCheckpoints(
      [{ pipeline: 'capture', subject: 'src', position: '0/30', details: {} }, { pipeline: 'capture-table', subject: 'src.s.t', position: 'A', details: {} }],
      { pipeline: 'capture', subject: 'src', key: 'pendingEnd', value: '0/30' },
    );
    assert.equal(stale, false);
    assert.equal((await cp.getCheckpoint('capture', 'src'))?.position, '0/10');
    assert.equal(await cp.getCheckpoint('capture-table', 'src.s.t'), null);
    const current = await cp.saveCheckpoints([{ pipeline: 'capture', subject: 'src', position: '0/20', details: {} }], { pipeline: 'capture', subject: 'src', key: 'pendingEnd', value: '0/20' });
    assert.equal(current, true);
    assert.deepEqual(await cp.getCheckpoint('capture', 'src'), { pipeline: 'capture', subject: 'src', position: '0/20', details: {} });
  });

  it('refuses a table whose source is not registered, writing nothing', async () => {
    const def = parseTableDefinition({ source: 'nosuch', schema: 's', table: 't', precombineField: 'updated_at', partitionField: 'updated_at' });
    await assert.rejects(cp.recordTable(def, ['doctor_id'], [], 'test'), /foreign key/);
    assert.equal((await cp.auditTrail('table:nosuch.s.t')).length, 0);
  });

  it("refuses a second table whose lake catalog name would be another's (Glue lower-cases <source>_<schema>_<table>)", async () => {
    const def = (source: string, schema: string, table: string) => parseTableDefinition({ source, schema, table, precombineField: 'updated_at', partitionField: 'updated_at' });
    await cp.upsertSource({ name: 'a_b', engine: 'mysql', database: 'clinic', connectionSecret: 'DANAU_SOURCE_CLINIC_URL', description: '' }, 'test');
    await cp.upsertSource({ name: 'a', engine: 'mysql', database: 'clinic', connectionSecret: 'DANAU_SOURCE_CLINIC_URL', description: '' }, 'test');
    await cp.recordTable(def('a_b', 'c', 't'), ['doctor_id'], [], 'test');
    const refused = (err: Error, name: string, other: string) => err instanceof TableDefinitionError && err.message.includes(`lake catalog name ${name} is already table ${other}'s`);
    await assert.rejects(cp.recordTable(def('a', 'b_c', 't'), ['doctor_id'], [], 'test'), (err: Error) => refused(err, 'a_b_c_t', 'a_b.c.t'));
    // clinic.clinic.doctors was recorded above; a schema differing only in case meets it in Glue.
    await assert.rejects(cp.recordTable(def('clinic', 'Clinic', 'doctors'), ['doctor_id'], [], 'test'), (err: Error) => refused(err, 'clinic_clinic_doctors', 'clinic.clinic.doctors'));
    assert.deepEqual((await cp.listTables()).map((t) => `${t.sourceName}.${t.schemaName}.${t.tableName}`).sort(), ['a_b.c.t', 'clinic.clinic.doctors']);
  });
});
