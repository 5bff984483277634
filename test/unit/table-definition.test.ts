import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAgainstSource, parseOnboardingDocument, parseTableDefinition, TableDefinitionError } from '../../lib/tables/definition';
import type { SourceTableDescription } from '../../lib/sources/types';

const good = { source: 'clinic', schema: 'clinic', table: 'patients', precombineField: 'updated_at', partitionField: 'registered_at' };

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TableDefinitionError) return err.problems;
    throw err;
  }
  assert.fail('expected a TableDefinitionError');
};

describe('parseTableDefinition', () => {
  it('fills the seed defaults: CoW, 15 commits retained, daily archives', () => {
    const d = parseTableDefinition(good);
    assert.equal(d.hudiTableType, 'COPY_ON_WRITE');
    assert.equal(d.cleanerCommitsRetained, 15);
    assert.equal(d.archiveLevel, 'day');
    assert.equal(d.enabled, true);
  });

  it('names the table and every bad field', () => {
    const problems = problemsOf(() =>
      parseTableDefinition({ ...good, precombineField: undefined, hudiTableType: 'COW', cleanerCommitsRetained: 0, partitionField: '' }),
    );
    assert.ok(problems.every((p) => p.startsWith('table clinic.clinic.patients: ')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('precombineField: is required')));
    assert.ok(problems.some((p) => p.includes('hudiTableType: must be COPY_ON_WRITE or MERGE_ON_READ')));
    assert.ok(problems.some((p) => p.includes('cleanerCommitsRetained')));
    // Field names are source column names, spelled as the source spells them (issue 12): only empty is wrong.
    assert.ok(problems.some((p) => p.includes('partitionField: must name a column')));
  });

  it('refuses unknown fields (a typo must not be ignored)', () => {
    const problems = problemsOf(() => parseTableDefinition({ ...good, precombine: 'updated_at' }));
    assert.match(problems.join(), /unknown field\(s\) precombine/);
  });
});

describe('parseOnboardingDocument', () => {
  it('accepts {sources, tables}, a list, or one table', () => {
    const src = { name: 'clinic', engine: 'mysql', database: 'clinic', connectionEnv: 'DANAU_SOURCE_CLINIC_URL' };
    assert.equal(parseOnboardingDocument({ sources: [src], tables: [good] }, 'f.yaml').sources.length, 1);
    // connectionEnv, the field's name before secrets could live in Secrets Manager, still reads.
    assert.equal(parseOnboardingDocument({ sources: [src], tables: [good] }, 'f.yaml').sources[0]!.connectionSecret, 'DANAU_SOURCE_CLINIC_URL');
    assert.equal(parseOnboardingDocument([good, { ...good, table: 'doctors' }], 'f.yaml').tables.length, 2);
    assert.equal(parseOnboardingDocument(good, 'flags').tables.length, 1);
  });

  it('reports every problem in a file at once, with its position', () => {
    const problems = problemsOf(() =>
      parseOnboardingDocument(
        { sources: [{ name: 'Bad Name', engine: 'oracle', database: 'x', connectionEnv: 'lower' }], tables: [good, { ...good, table: 'doctors', partitionField: undefined }, good] },
        'tables.yaml',
      ),
    );
    assert.ok(problems.some((p) => p.startsWith('tables.yaml: sources[0]: name:')));
    assert.ok(problems.some((p) => p.startsWith('tables.yaml: sources[0]: engine: must be mysql or postgres')));
    assert.ok(problems.some((p) => p === 'tables.yaml: tables[1]: table clinic.clinic.doctors: partitionField: is required'));
    assert.ok(problems.some((p) => p === 'tables.yaml: tables[2]: table clinic.clinic.patients is defined twice'));
  });

  it('refuses an empty document', () => {
    assert.throws(() => parseOnboardingDocument({ tables: [] }, 'empty.yaml'), /defines no tables/);
    assert.throws(() => parseOnboardingDocument('hello', 'x.yaml'), /expected a table/);
  });
});

describe('checkAgainstSource', () => {
  const found: SourceTableDescription = {
    schema: 'clinic',
    table: 'patients',
    primaryKey: ['patient_id'],
    columns: [
      { name: 'patient_id', dataType: 'bigint', columnType: 'bigint(20)', nullable: false, numericPrecision: null, numericScale: null },
      { name: 'full_name', dataType: 'varchar', columnType: 'varchar(150)', nullable: false, numericPrecision: null, numericScale: null },
      { name: 'registered_at', dataType: 'datetime', columnType: 'datetime(3)', nullable: false, numericPrecision: null, numericScale: null },
      { name: 'updated_at', dataType: 'timestamp', columnType: 'timestamp(3)', nullable: false, numericPrecision: null, numericScale: null },
    ],
  };

  it('accepts a definition that fits and maps every column', () => {
    const check = checkAgainstSource(parseTableDefinition(good), 'mysql', found);
    assert.deepEqual(check.problems, []);
    assert.deepEqual(check.primaryKey, ['patient_id']);
    assert.deepEqual(
      check.columns.map((c) => `${c.name}:${c.lakeType}`),
      ['patient_id:bigint', 'full_name:string', 'registered_at:timestamp', 'updated_at:timestamp'],
    );
  });

  it('warns when a PostgreSQL table would stop CDC on an unchanged large value', () => {
    const check = checkAgainstSource(parseTableDefinition(good), 'mysql', { ...found, unloggedLargeColumns: ['full_name'] });
    assert.deepEqual(check.problems, []);
    assert.equal(check.warnings.length, 1);
    assert.match(check.warnings[0]!, /replica identity is DEFAULT and full_name can be stored out of line .*ALTER TABLE clinic\.patients REPLICA IDENTITY FULL/);
    assert.deepEqual(checkAgainstSource(parseTableDefinition(good), 'mysql', found).warnings, []);
  });

  it('refuses a table without a primary key', () => {
    const check = checkAgainstSource(parseTableDefinition(good), 'mysql', { ...found, primaryKey: [] });
    assert.deepEqual(check.problems, ['primaryKey: the source table has no primary key (Hudi needs a record key)']);
  });

  it('refuses a declared key that differs from the source, missing columns, and unusable types', () => {
    const def = parseTableDefinition({ ...good, primaryKey: ['full_name'], precombineField: 'full_name', partitionField: 'nope' });
    const check = checkAgainstSource(def, 'mysql', {
      ...found,
      columns: [...found.columns, { name: 'location', dataType: 'point', columnType: 'point', nullable: true, numericPrecision: null, numericScale: null }],
    });
    assert.deepEqual(check.problems, [
      "primaryKey: declared (full_name) but the source's is (patient_id)",
      'partitionField: column nope does not exist in the source table',
      'column location: MySQL type point has no lake type',
      'precombineField: column full_name is varchar(150); it must be orderable (a number or timestamp)',
    ]);
  });
});
