// Job files go to S3 for EMR: uploaded once per content, against the local S3 server.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { bufferReader, readZipDirectory } from '../../lib/archive/zip';
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
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'jobs/danau_lake.zip' }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });

  it('uploads the lake job and its package under the code prefix, and leaves an unchanged file alone', async () => {
    const first = await uploadJobFiles(s3, `s3://${bucket}/jobs/`);
    assert.deepEqual(first, [
      { file: 'scripts/spark/lake_job.py', uri: `s3://${bucket}/jobs/lake_job.py`, uploaded: true },
      { file: 'scripts/spark/danau_lake', uri: `s3://${bucket}/jobs/danau_lake.zip`, uploaded: true },
    ]);
    // The zip holds the package under its own name, as --py-files needs it for `import danau_lake`.
    const zip = await readZipDirectory(bufferReader(Buffer.from(await readObject(s3, bucket, 'jobs/danau_lake.zip'))));
    const names = zip.entries.map((e) => e.name);
    for (const f of readdirSync(path.join(repoRoot, 'scripts/spark/danau_lake')).filter((n) => n.endsWith('.py') || n.endsWith('.json'))) assert.ok(names.includes(`danau_lake/${f}`), f);
    const stored = Buffer.from(await readObject(s3, bucket, 'jobs/lake_job.py'));
    assert.ok(stored.equals(readFileSync(path.join(repoRoot, 'scripts/spark/lake_job.py'))));
    const second = await uploadJobFiles(s3, `s3://${bucket}/jobs/`);
    assert.deepEqual(second.map((f) => f.uploaded), [false, false]);
    await assert.rejects(uploadJobFiles(s3, 'code/'), /code URI code\/ is not an s3:\/\/ prefix/);
  });
});
