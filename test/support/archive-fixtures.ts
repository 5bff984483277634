// What the archive tests share: a scratch control plane with one onboarded table, scratch raw and
// archive buckets, small raw files with deterministic bytes (partly compressible, like Parquet with
// repeated dictionary pages), and marking files as consumed by the lake (a committed lake batch).
import { AbortMultipartUploadCommand, CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import type { DanauConfig } from '../../lib/config';
import type { ControlPlane, TableRecord } from '../../lib/control-plane/store';
import { createS3Client } from '../../lib/s3';
import { parseTableDefinition } from '../../lib/tables/definition';
import { createScratchControlPlane, testConfig, uniqueSuffix, type ScratchDatabase } from './stack';

export interface ArchiveFixture {
  config: DanauConfig;
  db: ScratchDatabase;
  controlPlane: ControlPlane;
  s3: S3Client;
  rawBucket: string;
  archiveBucket: string;
  table: TableRecord;
  /** source.schema.table */
  tableName: string;
  /** The environment a worker process for this fixture needs. */
  workerEnvironment: Record<string, string>;
  close(): Promise<void>;
}

export async function createArchiveFixture(): Promise<ArchiveFixture> {
  const suffix = uniqueSuffix();
  const rawBucket = `danau-test-raw-${randomBytes(4).toString('hex')}`;
  const archiveBucket = `danau-test-arch-${randomBytes(4).toString('hex')}`;
  const { db, controlPlane } = await createScratchControlPlane();
  const workerEnvironment = { DANAU_CONTROL_DATABASE_URL: db.url, DANAU_RAW_BUCKET: rawBucket, DANAU_ARCHIVE_BUCKET: archiveBucket };
  const config = testConfig(workerEnvironment);
  const s3 = createS3Client(config);
  await s3.send(new CreateBucketCommand({ Bucket: rawBucket }));
  await s3.send(new CreateBucketCommand({ Bucket: archiveBucket }));
  const source = `arch_${suffix}`;
  await controlPlane.upsertSource({ name: source, engine: 'postgres', database: 'labs', connectionSecret: 'DANAU_SOURCE_LABS_URL', description: 'archive test' }, 'test');
  const def = parseTableDefinition({ source, schema: 'public', table: 'events', precombineField: 'updated_at', partitionField: 'created_at', archiveAfterDays: 30 });
  const columns = [
    { name: 'id', lakeName: 'id', sourceType: 'bigint', lakeType: 'bigint', nullable: false },
    { name: 'created_at', lakeName: 'created_at', sourceType: 'timestamp with time zone', lakeType: 'timestamp', nullable: false },
    { name: 'updated_at', lakeName: 'updated_at', sourceType: 'timestamp with time zone', lakeType: 'timestamp', nullable: false },
  ];
  const { table } = await controlPlane.recordTable(def, ['id'], columns, 'test');
  return {
    config,
    db,
    controlPlane,
    s3,
    rawBucket,
    archiveBucket,
    table,
    tableName: `${source}.public.events`,
    workerEnvironment,
    async close() {
      await emptyBucket(s3, rawBucket, true);
      await emptyBucket(s3, archiveBucket, true);
      s3.destroy();
      await controlPlane.close();
      await db.drop();
    },
  };
}

/** A CDC key of the fixture's table (of `source`) on `day` (YYYY-MM-DD), unique per `i`. */
export function rawFileKey(source: string, day: string, i: number): string {
  const [y, m, d] = day.split('-');
  const s = i % 86_400;
  const clock = `${String(Math.floor(s / 3600)).padStart(2, '0')}${String(Math.floor(s / 60) % 60).padStart(2, '0')}${String(s % 60).padStart(2, '0')}${String(i % 1_000_000).padStart(6, '0')}`;
  return `${source}/public/events/${y}/${m}/${d}/${y}${m}${d}-${clock}-${String(i).padStart(10, '0')}.parquet`;
}

/** Deterministic bytes of about `size`: a header, a repeated block and some noise. */
export function fileBody(seed: number, size = 800 + ((seed * 7919) % 19_000)): Buffer {
  const b = Buffer.alloc(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  const block = Buffer.from(`PAR1 row group ${seed % 17} dictionary page `);
  for (let i = 0; i < size; i++) {
    if (i % 64 < 40) b[i] = block[i % block.length]!;
    else {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
  }
  return b;
}

export async function putFiles(s3: S3Client, bucket: string, files: ReadonlyMap<string, Buffer>, concurrency = 16): Promise<void> {
  const entries = [...files];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < entries.length) {
        const [key, body] = entries[next++]!;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      }
    }),
  );
}

let batches = 0;
/** Records `keys` as consumed by the lake: one committed lake batch. */
export async function markConsumed(fx: ArchiveFixture, files: ReadonlyMap<string, Buffer>): Promise<void> {
  const batchId = `test-batch-${process.pid}-${++batches}`;
  await fx.controlPlane.planLakeBatch({ batchId, tableId: fx.table.tableId, files: [...files].map(([key, body]) => ({ key, size: body.length })) });
  const figures = { instant: `2024${String(batches).padStart(10, '0')}`, alreadyApplied: false, rowsRead: 0, rowsUpserted: 0, rowsDeleted: 0, rowsStale: 0, rowsQuarantined: 0 };
  await fx.controlPlane.commitLakeBatch(batchId, figures, { runner: 'local', logLocation: 'test' }, [], null);
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function incompleteUploads(s3: S3Client, bucket: string): Promise<number> {
  return (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
}

/** Deletes every object (and incomplete upload) in a scratch bucket, and the bucket with `drop`. */
export async function emptyBucket(s3: S3Client, bucket: string, drop = false): Promise<void> {
  try {
    for (const u of (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    }
    const keys = await listKeys(s3, bucket);
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
    }
    if (drop) await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch {
    // Best effort: a bucket that was never created, or a server already gone.
  }
}
