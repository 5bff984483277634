// A raw file written by Danau, put in the local S3 raw zone, read by Spark over s3a:// with the types
// DMS gives them: exact decimals, UTC timestamps, binary, dates before 1582, Unicode.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { encodeDmsParquet } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey } from '../../lib/raw-zone/keys';
import { createS3Client } from '../../lib/s3';
import { runLocalSparkJob } from '../../lib/spark/local';
import type { LakeColumn } from '../../lib/tables/definition';
import { testConfig, uniqueSuffix } from '../support/stack';

const config = testConfig();
const s3 = createS3Client(config);
const col = (name: string, lakeType: string): LakeColumn => ({ name, lakeName: name, lakeType, sourceType: lakeType, nullable: true });

describe('raw files in Spark', () => {
  const table = `zz_spark_${uniqueSuffix()}`;
  const key = cdcObjectKey({ source: 'danau_test', schema: 'spark', table }, '2026-11-23 04:05:06.5', '00000000000000000001');
  after(async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: config.buckets.raw, Key: key }));
    s3.destroy();
  });

  it('reads back every lake type exactly', async () => {
    const columns = [col('id', 'bigint'), col('fee', 'decimal(12,2)'), col('big', 'decimal(38,10)'), col('at', 'timestamp'), col('born', 'date'), col('name', 'string'), col('scan', 'binary'), col('ok', 'boolean')];
    const body = await encodeDmsParquet({
      table,
      columns,
      previousChangeSeq: '',
      changes: [
        { op: 'I', commitTimestamp: '2026-11-23 04:05:06.5', changeSeq: '00000000000000000001', values: { id: '1', fee: '150000.00', big: '-1234567890123456789012345678.0123456789', at: '2026-11-23 11:05:06.123456+07', born: '1000-01-01', name: 'Dewi 陈美玲 😀', scan: new Uint8Array([0, 255]), ok: 't' } },
        { op: 'D', commitTimestamp: '2026-11-23 04:05:07', changeSeq: '00000000000000000002', values: { id: '1', fee: null, big: null, at: null, born: null, name: null, scan: null, ok: null } },
      ],
    });
    await s3.send(new PutObjectCommand({ Bucket: config.buckets.raw, Key: key, Body: body }));

    const result = await runLocalSparkJob({
      script: 'scripts/spark/inspect_raw_files.py',
      args: [`s3a://${config.buckets.raw}/${key}`],
      logFile: path.join(config.home, 'logs', 'spark', `inspect-${table}.log`),
      env: config.environment,
    });
    const seen = result.summary as { schema: Record<string, string>; rows: Record<string, unknown>[] };
    assert.deepEqual(seen.schema, {
      Op: 'string',
      dms_commit_ts: 'string',
      dms_change_seq: 'string',
      id: 'bigint',
      fee: 'decimal(12,2)',
      big: 'decimal(38,10)',
      at: 'timestamp',
      born: 'date',
      name: 'string',
      scan: 'binary',
      ok: 'boolean',
    });
    assert.deepEqual(seen.rows[0], {
      Op: 'I',
      dms_commit_ts: '2026-11-23 04:05:06.500000',
      dms_change_seq: '00000000000000000001',
      id: 1,
      fee: '150000.00',
      big: '-1234567890123456789012345678.0123456789',
      at: '2026-11-23T04:05:06.123456',
      born: '1000-01-01',
      name: 'Dewi 陈美玲 😀',
      scan: '00ff',
      ok: true,
    });
    assert.equal(seen.rows[1]!.Op, 'D');
    assert.equal(seen.rows[1]!.fee, null);
  });
});
