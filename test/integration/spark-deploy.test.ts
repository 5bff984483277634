// Job files go to S3 for EMR: uploaded once per content, against the local S3 server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { repoRoot } from '../../lib/config';
import { readObject } from '../../lib/raw-zone/objects';
import { createS3Client } from '../../lib/s3';
import { uploadJobFiles } from '../../lib/spark/deploy';
import { testConfig, uniqueSuffix } from '../support/stack';

describe('uploadJobFiles', () => {
  const s3 = createS3Client(testConfig());
  const bucket = `danau-test-code-${uniqueSuffix().replace(/_/g, '-')}`;
  before(() => s3.send(new CreateBucketCommand({ Bucket: bucket })));
  after(async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'jobs/lake_job.py' }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });

  it('uploads the lake job under the code prefix, and leaves an unchanged file alone', async () => {
    const first = await uploadJobFiles(s3, `s3://${bucket}/jobs/`);
    assert.deepEqual(first, [{ file: 'scripts/spark/lake_job.py', uri: `s3://${bucket}/jobs/lake_job.py`, uploaded: true }]);
    const stored = Buffer.from(await readObject(s3, bucket, 'jobs/lake_job.py'));
    assert.ok(stored.equals(readFileSync(path.join(repoRoot, 'scripts/spark/lake_job.py'))));
    const second = await uploadJobFiles(s3, `s3://${bucket}/jobs/`);
    assert.equal(second[0]!.uploaded, false);
    await assert.rejects(uploadJobFiles(s3, 'code/'), /code URI code\/ is not an s3:\/\/ prefix/);
  });
});
