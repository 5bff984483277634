// Issue 12: a source may name a column anything it allows. Capture quotes it as the source does;
// onboarding gives it a lake name Avro, Hudi, Glue and the warehouse accept, or refuses the column
// naming why; the lake job's spec carries both names, keys resolved to lake names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TableRecord } from '../../lib/control-plane/store';
import { buildUpsertSpec } from '../../lib/lake/batches';
import type { SourceColumn } from '../../lib/sources/types';
import { quoteSourceIdent, quoteSourceQualified } from '../../lib/sql/identifiers';
import { checkAgainstSource, parseTableDefinition } from '../../lib/tables/definition';
import { LAKE_NAME_MAX, lakeColumnName } from '../../lib/tables/lake-names';
import { testConfig } from '../support/stack';

const LONG = 'Tanggal Pemberian Obat Terakhir Kepada Pasien Rawat Inap Bangsal A'; // 67 characters
const col = (name: string, dataType = 'text', columnType = dataType): SourceColumn => ({ name, dataType, columnType, nullable: true, numericPrecision: null, numericScale: null });

describe('quoteSourceIdent', () => {
  it('quotes any name the source allows, escaping the quote character', () => {
    assert.equal(quoteSourceIdent('Dispensed By', 'postgres'), '"Dispensed By"');
    assert.equal(quoteSourceIdent('say "hi"', 'postgres'), '"say ""hi"""');
    assert.equal(quoteSourceIdent('we`ird', 'mysql'), '`we``ird`');
    assert.equal(quoteSourceIdent('order', 'mysql'), '`order`');
    assert.equal(quoteSourceQualified('public', 'Lab Orders', 'postgres'), '"public"."Lab Orders"');
  });

  it('refuses what no source allows', () => {
    assert.throws(() => quoteSourceIdent('', 'postgres'), /not a source identifier/);
    assert.throws(() => quoteSourceIdent('a\u0000b', 'mysql'), /not a source identifier/);
  });
});

describe('lakeColumnName', () => {
  it('keeps a name that already is a lake name, reserved words included', () => {
    for (const n of ['patient_id', '_row', 'order', 'group', 'a1']) assert.equal(lakeColumnName(n), n);
  });

  it('maps spaces, mixed case, punctuation, backticks, accents and a leading digit', () => {
    assert.equal(lakeColumnName('Dispensed By'), 'dispensed_by');
    assert.equal(lakeColumnName('PatientID'), 'patientid');
    assert.equal(lakeColumnName('Order'), 'order');
    assert.equal(lakeColumnName('we`ird name'), 'we_ird_name');
    assert.equal(lakeColumnName('amount ($)'), 'amount');
    assert.equal(lakeColumnName('Größe café'), 'gro_e_cafe'); // accents dropped; ß has no ASCII decomposition
    assert.equal(lakeColumnName('1st dose'), '_1st_dose');
    assert.match(lakeColumnName('???'), /^c_[0-9a-f]{8}$/);
  });

  it("renames a column that would take the name of the lake's own columns", () => {
    assert.equal(lakeColumnName('dt'), 'dt_src');
    assert.equal(lakeColumnName('_hoodie_commit_time'), '_hoodie_commit_time_src');
    assert.equal(lakeColumnName('_Danau_Op'), '_danau_op_src');
  });

  it('cuts a name over the limit and adds a hash of the whole name, so names sharing a prefix stay apart', () => {
    const a = lakeColumnName(LONG);
    const b = lakeColumnName(`${LONG} B`);
    assert.ok(a.length <= LAKE_NAME_MAX && b.length <= LAKE_NAME_MAX, `${a} ${b}`);
    assert.match(a, /^tanggal_pemberian_obat_terakhir_kepada_pasien_rawat_in_[0-9a-f]{8}$/);
    assert.notEqual(a, b);
    assert.equal(lakeColumnName(LONG), a, 'deterministic');
    assert.equal(lakeColumnName('x'.repeat(64)).length, LAKE_NAME_MAX);
  });
});

describe('onboarding with source column names', () => {
  const def = (over: Record<string, unknown> = {}) =>
    parseTableDefinition({ source: 'pharmacy', schema: 'public', table: 'dispensing', precombineField: 'Updated At', partitionField: 'Dispensed At', ...over });
  const found = (columns: SourceColumn[]) => ({
    schema: 'public',
    table: 'dispensing',
    primaryKey: ['Dispense ID'],
    columns: [col('Dispense ID', 'bigint'), col('Dispensed At', 'timestamp with time zone'), col('Updated At', 'timestamp with time zone'), ...columns],
  });

  it('accepts spaces, mixed case, reserved words, backticks and long names, each with its lake name', () => {
    const check = checkAgainstSource(def(), 'postgres', found([col('Dispensed By'), col('order', 'integer'), col('group'), col('we`ird'), col(LONG)]));
    assert.deepEqual(check.problems, []);
    assert.deepEqual(
      check.columns.map((c) => [c.name, c.lakeName]),
      [
        ['Dispense ID', 'dispense_id'],
        ['Dispensed At', 'dispensed_at'],
        ['Updated At', 'updated_at'],
        ['Dispensed By', 'dispensed_by'],
        ['order', 'order'],
        ['group', 'group'],
        ['we`ird', 'we_ird'],
        [LONG, lakeColumnName(LONG)],
      ],
    );
  });

  it('refuses columns whose names differ only in case (or punctuation), naming both', () => {
    const check = checkAgainstSource(def(), 'postgres', found([col('Code'), col('code'), col('Dispensed By'), col('dispensed_by')]));
    assert.deepEqual(check.problems, [
      'columns "Code" and "code" would share the lake name code (the lake, Glue and the warehouse do not tell names apart by case or punctuation); rename one at the source',
      'columns "Dispensed By" and "dispensed_by" would share the lake name dispensed_by (the lake, Glue and the warehouse do not tell names apart by case or punctuation); rename one at the source',
    ]);
  });

  it('refuses a column named like a DMS header column, saying why', () => {
    const check = checkAgainstSource(def(), 'postgres', found([col('OP')]));
    assert.deepEqual(check.problems, ['column "OP": the raw files\' DMS header already has a column Op; rename the column at the source']);
  });

  it('keeps the lake names recorded when the table was onboarded before', () => {
    const recorded = [{ name: 'PatientID', lakeName: 'PatientID', sourceType: 'int', lakeType: 'int', nullable: true }];
    const check = checkAgainstSource(def(), 'postgres', found([col('PatientID', 'integer')]), recorded);
    assert.equal(check.columns.find((c) => c.name === 'PatientID')!.lakeName, 'PatientID');
  });

  it("gives the lake job both names, and its keys, precombine and partition fields as lake names", () => {
    const check = checkAgainstSource(def(), 'postgres', found([col('Dispensed By'), col('order', 'integer')]));
    const d = def();
    const table: TableRecord = {
      tableId: 1, sourceName: d.source, schemaName: d.schema, tableName: d.table, primaryKey: check.primaryKey,
      precombineField: d.precombineField, partitionField: d.partitionField, hudiTableType: 'COPY_ON_WRITE', cleanerCommitsRetained: 15,
      hudiIndexType: 'BLOOM', compactionDeltaCommits: 5, archiveLevel: 'day', archiveAfterDays: 30, freshnessSlaMinutes: 15,
      schedule: '*/5 * * * *', enabled: true, pausedReason: null, columns: check.columns, createdAt: '', updatedAt: '',
    };
    const spec = buildUpsertSpec(testConfig(), table, 'b1', []);
    assert.deepEqual(spec.primaryKey, ['dispense_id']);
    assert.equal(spec.precombineField, 'updated_at');
    assert.equal(spec.partitionField, 'dispensed_at');
    assert.deepEqual(spec.columns.find((c) => c.sourceName === 'Dispensed By'), { name: 'dispensed_by', sourceName: 'Dispensed By', lakeType: 'string' });
  });
});
