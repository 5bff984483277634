// The lake job's contract: the JSON Schema the Python job checks specs against is the one the zod
// schemas give, and the schemas refuse what the job would trip over.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONTRACT_FILE, contractText } from '../../scripts/build-lake-contract';
import { lakeJobFailure, lakeUpsertSpec } from '../../lib/lake/job-contract';
import { sessionIdOf } from '../../lib/spark/connect';

const upsert = {
  batchId: 'b-1',
  table: 'clinic.clinic.patients',
  hudiTableName: 'clinic_clinic_patients',
  basePath: 's3://danau-processed/clinic/clinic/patients',
  changelogBasePath: 's3://danau-processed/clinic/clinic/patients__changelog',
  tombstonesBasePath: 's3://danau-processed/clinic/clinic/patients__tombstones',
  files: ['s3://danau-raw/clinic/clinic/patients/LOAD00000001.parquet'],
  columns: [{ name: 'id', sourceName: 'id', lakeType: 'bigint' }],
  primaryKey: ['id'],
  precombineField: 'id',
  partitionField: 'id',
  timezone: 'Asia/Jakarta',
  tableType: 'COPY_ON_WRITE',
  indexType: 'BLOOM',
  cleanerCommitsRetained: 10,
  compactionDeltaCommits: 5,
  resultUri: 's3://danau-processed/_danau/batches/b-1/result.json',
  quarantineUri: 's3://danau-processed/_danau/batches/b-1/quarantine/',
  staleUri: 's3://danau-processed/_danau/batches/b-1/stale/',
  catalog: null,
};

describe('lake job contract', () => {
  it('contract.schema.json is what the zod schemas give (run npm run contract after changing them)', () => {
    assert.equal(readFileSync(CONTRACT_FILE, 'utf8'), contractText());
  });

  it('accepts a well-formed upsert spec and refuses a misspelt or missing field, naming it', () => {
    assert.equal(lakeUpsertSpec.safeParse(upsert).success, true);
    const misspelt = lakeUpsertSpec.safeParse({ ...upsert, primaryKeys: ['id'] });
    assert.equal(misspelt.success, false);
    assert.match(JSON.stringify(misspelt.error?.issues), /primaryKeys/);
    const { files: _files, ...noFiles } = upsert;
    const missing = lakeUpsertSpec.safeParse(noFiles);
    assert.deepEqual(missing.error?.issues.map((i) => i.path.join('.')), ['files']);
    assert.equal(lakeUpsertSpec.safeParse({ ...upsert, tableType: 'COW' }).success, false);
  });

  it('a failure names an error type from the catalog and whether a retry can help', () => {
    assert.equal(lakeJobFailure.safeParse({ ok: false, errorType: 'LakeDataError', retryable: false, error: 'AnalysisException: …' }).success, true);
    assert.equal(lakeJobFailure.safeParse({ ok: false, errorType: 'Oops', retryable: false, error: '' }).success, false);
  });

  it('one job name, one engine session; another name, another session', () => {
    const a = sessionIdOf('danau:lake-upsert:b-1');
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(sessionIdOf('danau:lake-upsert:b-1'), a);
    assert.notEqual(sessionIdOf('danau:lake-upsert:b-2'), a);
  });
});
