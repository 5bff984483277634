// EMR runs job files from S3: before a worker that submits EMR steps starts, the job files of this
// build are uploaded under the code prefix. Only a file whose bytes changed is written, so workers
// of one release starting together do not race to different contents.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { repoRoot } from '../config';

/** Every PySpark job a worker may submit. */
export const JOB_FILES = ['scripts/spark/lake_job.py'] as const;

export async function uploadJobFiles(s3: S3Client, codeUri: string, files: readonly string[] = JOB_FILES): Promise<{ file: string; uri: string; uploaded: boolean }[]> {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(codeUri);
  if (!m) throw new Error(`code URI ${codeUri} is not an s3:// prefix`);
  const [, bucket, prefix] = m as unknown as [string, string, string];
  const out = [];
  for (const file of files) {
    const body = readFileSync(path.join(repoRoot, file));
    const sha256 = createHash('sha256').update(body).digest('hex');
    const key = `${prefix}${path.posix.basename(file)}`;
    const current = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => null);
    const same = current?.Metadata?.sha256 === sha256;
    if (!same) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/x-python', Metadata: { sha256 } }));
    out.push({ file, uri: `s3://${bucket}/${key}`, uploaded: !same });
  }
  return out;
}
