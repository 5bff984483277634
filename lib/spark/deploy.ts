// EMR runs job files from S3: before a worker that submits EMR steps starts, the job files of this
// build are uploaded under the code prefix: the entry (lake_job.py) and the danau_lake package as a
// zip for spark-submit's --py-files. Only a file whose bytes changed is written, so workers of one
// release starting together do not race to different contents.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { crc32, METHOD_STORED, ZipWriter } from '../archive/zip';
import { repoRoot } from '../config';

/** Every PySpark job entry a worker may submit. */
export const JOB_FILES = ['scripts/spark/lake_job.py'] as const;
/** The package the entries import, shipped as `<name>.zip` (EMR steps get it with --py-files). */
export const JOB_PACKAGE = 'scripts/spark/danau_lake';

/** The package as a zip: its .py files and its contract, in name order, with a fixed date (same bytes for the same files). */
export async function packageZip(dir: string = path.join(repoRoot, JOB_PACKAGE)): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const zip = new ZipWriter({ write: (c) => Promise.resolve(void chunks.push(Buffer.from(c))) });
  const base = path.basename(dir);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.py') || f.endsWith('.json')).sort()) {
    const data = readFileSync(path.join(dir, file));
    await zip.addPrepared({ name: `${base}/${file}`, mtime: new Date('2026-01-01T00:00:00Z'), method: METHOD_STORED, crc32: crc32(data), size: data.length, data });
  }
  await zip.finish();
  return Buffer.concat(chunks);
}

export async function uploadJobFiles(s3: S3Client, codeUri: string, files: readonly string[] = JOB_FILES): Promise<{ file: string; uri: string; uploaded: boolean }[]> {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(codeUri);
  if (!m) throw new Error(`code URI ${codeUri} is not an s3:// prefix`);
  const [, bucket, prefix] = m as unknown as [string, string, string];
  const bodies: { file: string; name: string; body: Buffer; contentType: string }[] = files.map((file) => ({ file, name: path.posix.basename(file), body: readFileSync(path.join(repoRoot, file)), contentType: 'text/x-python' }));
  bodies.push({ file: JOB_PACKAGE, name: `${path.posix.basename(JOB_PACKAGE)}.zip`, body: await packageZip(), contentType: 'application/zip' });
  const out = [];
  for (const { file, name, body, contentType } of bodies) {
    const sha256 = createHash('sha256').update(body).digest('hex');
    const key = `${prefix}${name}`;
    const current = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => null);
    const same = current?.Metadata?.sha256 === sha256;
    if (!same) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, Metadata: { sha256 } }));
    out.push({ file, uri: `s3://${bucket}/${key}`, uploaded: !same });
  }
  return out;
}
