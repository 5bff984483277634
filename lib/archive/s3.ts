// The S3 calls the archive pipeline makes beyond the multipart upload: listing a prefix with ETags
// and storage classes, ranged reads of one pinned object version, and telling apart the errors that
// mean "gone" and "changed" from the ones worth a retry.
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { RangeReader } from './zip';

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  storageClass: string;
}

/** Every object under `prefix`, in S3's order (UTF-8 binary of the key). `stopAt` ends the listing early. */
export async function listPrefix(s3: S3Client, bucket: string, prefix: string, opts: { startAfter?: string; stopAt?: (key: string) => boolean; signal?: AbortSignal } = {}): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...(token || !opts.startAfter ? {} : { StartAfter: opts.startAfter }) }),
      { abortSignal: opts.signal },
    );
    for (const o of page.Contents ?? []) {
      if (!o.Key) continue;
      if (opts.stopAt?.(o.Key)) return out;
      out.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified ?? new Date(0), storageClass: o.StorageClass ?? 'STANDARD' });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function errorName(err: unknown): string {
  return (err as { name?: string; Code?: string }).name ?? (err as { Code?: string }).Code ?? '';
}

export function isNotFound(err: unknown): boolean {
  return status(err) === 404 || ['NoSuchKey', 'NotFound'].includes(errorName(err));
}

export function isPreconditionFailed(err: unknown): boolean {
  return status(err) === 412 || errorName(err) === 'PreconditionFailed';
}

/** A Node stream body as an async iterable of Buffers. */
export function bodyChunks(body: unknown): AsyncIterable<Buffer> {
  return body as Readable as AsyncIterable<Buffer>;
}

export async function readBody(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of bodyChunks(body)) chunks.push(c);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * Ranged reads of one object. With `etag` every read carries If-Match, so a zip replaced while it
 * is being read fails the read (412) instead of mixing two versions' bytes.
 */
export async function s3RangeReader(s3: S3Client, bucket: string, key: string, pin?: { etag: string; size: number }, signal?: AbortSignal): Promise<RangeReader & { etag: string }> {
  let etag = pin?.etag;
  let size = pin?.size;
  if (etag === undefined || size === undefined) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    etag = head.ETag ?? '';
    size = head.ContentLength ?? 0;
  }
  const pinned = etag;
  return {
    size,
    etag: pinned,
    async read(start, end) {
      if (end <= start) return Buffer.alloc(0);
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}`, ...(pinned ? { IfMatch: pinned } : {}) }), { abortSignal: signal });
      const buf = await readBody(res.Body);
      if (buf.length !== end - start) throw new Error(`s3://${bucket}/${key}: asked for bytes ${start}-${end - 1}, got ${buf.length} bytes`);
      return buf;
    },
  };
}
