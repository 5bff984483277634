// A multipart upload that a zip writer streams into: parts are cut at `partSize` and uploaded while
// the writer goes on, at most `maxConcurrentParts` at a time, so memory stays near
// partSize x (maxConcurrentParts + 1) whatever the object's size. The CRC-32 and SHA-256 of the
// whole object are computed on the way through.
//
// The S3 checksum: the upload is created with ChecksumAlgorithm CRC32 and ChecksumType FULL_OBJECT;
// every part carries its own CRC-32 and CompleteMultipartUpload the whole object's, all computed
// here. S3 (and S3Mock 5.2.0, which verifies explicit values even though it ignores the SDK's own
// checksum headers: docs/design/object-store.md) rejects a part or an object whose bytes do not
// match, and HeadObject with ChecksumMode ENABLED reports the whole-object CRC-32 afterwards.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { createHash, type Hash } from 'node:crypto';
import { crc32, crc32Base64, type ZipSink } from './zip';

/** Server-side encryption for objects Danau writes: SSE-S3 (AES256) or SSE-KMS with an optional key. */
export interface ServerSideEncryption {
  type: 'AES256' | 'aws:kms';
  kmsKeyId?: string;
}

export function sseParams(sse: ServerSideEncryption | undefined): { ServerSideEncryption?: 'AES256' | 'aws:kms'; SSEKMSKeyId?: string } {
  if (!sse) return {};
  return { ServerSideEncryption: sse.type, ...(sse.type === 'aws:kms' && sse.kmsKeyId ? { SSEKMSKeyId: sse.kmsKeyId } : {}) };
}

export interface MultipartOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  storageClass: StorageClass;
  sse?: ServerSideEncryption;
  /** Bytes per part (S3: at least 5 MiB except the last, at most 10,000 parts). Default 8 MiB. */
  partSize?: number;
  /** Parts uploading at once. Default 2. */
  maxConcurrentParts?: number;
  /** Send CRC-32 checksums the store verifies (default true; false for a store that rejects them). */
  checksum?: boolean;
  metadata?: Record<string, string>;
  contentType?: string;
  abortSignal?: AbortSignal;
}

export interface CompletedUpload {
  bucket: string;
  key: string;
  uploadId: string;
  etag: string;
  bytes: number;
  parts: number;
  /** Whole-object CRC-32, base64 as S3 reports it. */
  crc32: string;
  sha256: string;
}

export const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

/** A part size that keeps an object of about `expectedBytes` under S3's 10,000 parts, with room to spare. */
export function partSizeFor(expectedBytes: number, preferred = 8 * 1024 * 1024): number {
  const needed = Math.ceil(expectedBytes / (MAX_PARTS * 0.9));
  const mib = 1024 * 1024;
  return Math.max(MIN_PART_SIZE, preferred, Math.ceil(needed / mib) * mib);
}

export class MultipartUpload implements ZipSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private partNumber = 0;
  private readonly parts: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | undefined;
  private crc = 0;
  private readonly sha: Hash = createHash('sha256');
  private total = 0;
  private closed = false;

  private constructor(
    private readonly options: Required<Pick<MultipartOptions, 'partSize' | 'maxConcurrentParts' | 'checksum'>> & MultipartOptions,
    readonly uploadId: string,
  ) {}

  static async start(options: MultipartOptions): Promise<MultipartUpload> {
    const o = { ...options, partSize: options.partSize ?? 8 * 1024 * 1024, maxConcurrentParts: options.maxConcurrentParts ?? 2, checksum: options.checksum ?? true };
    if (o.partSize < MIN_PART_SIZE) throw new Error(`part size ${o.partSize} is below S3's 5 MiB minimum`);
    const created = await o.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: o.bucket,
        Key: o.key,
        StorageClass: o.storageClass,
        ContentType: o.contentType ?? 'application/octet-stream',
        ...(o.metadata ? { Metadata: o.metadata } : {}),
        ...sseParams(o.sse),
        ...(o.checksum ? { ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' } : {}),
      }),
      { abortSignal: o.abortSignal },
    );
    if (!created.UploadId) throw new Error(`s3://${o.bucket}/${o.key}: CreateMultipartUpload returned no upload id`);
    return new MultipartUpload(o, created.UploadId);
  }

  get bytesWritten(): number {
    return this.total;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.closed) throw new Error('multipart upload already completed or aborted');
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    this.crc = crc32(chunk, this.crc);
    this.sha.update(chunk);
    this.total += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= this.options.partSize) await this.flushPart();
  }

  private async flushPart(): Promise<void> {
    // Wait for a slot: this is where a fast writer is held back by a slow store.
    while (this.inFlight.size >= this.options.maxConcurrentParts) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const body = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const number = ++this.partNumber;
    const o = this.options;
    const task = (async () => {
      const res = await o.s3.send(
        new UploadPartCommand({
          Bucket: o.bucket,
          Key: o.key,
          UploadId: this.uploadId,
          PartNumber: number,
          Body: body,
          ContentLength: body.length,
          ...(o.checksum ? { ChecksumCRC32: crc32Base64(crc32(body)) } : {}),
        }),
        { abortSignal: o.abortSignal },
      );
      if (!res.ETag) throw new Error(`s3://${o.bucket}/${o.key}: part ${number} returned no ETag`);
      this.parts.push({ PartNumber: number, ETag: res.ETag, ...(o.checksum ? { ChecksumCRC32: res.ChecksumCRC32 ?? crc32Base64(crc32(body)) } : {}) });
    })().catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
    const tracked: Promise<void> = task.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Uploads what is left as the last part and completes the upload. */
  async complete(): Promise<CompletedUpload> {
    if (this.closed) throw new Error('multipart upload already completed or aborted');
    // An empty object still needs one (empty) part.
    if (this.pendingBytes > 0 || this.partNumber === 0) await this.flushPart();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    this.closed = true;
    const o = this.options;
    const crc = crc32Base64(this.crc);
    const parts = [...this.parts].sort((a, b) => a.PartNumber! - b.PartNumber!);
    const done = await o.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: o.bucket,
        Key: o.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: parts },
        ...(o.checksum ? { ChecksumCRC32: crc, ChecksumType: 'FULL_OBJECT' } : {}),
      }),
      { abortSignal: o.abortSignal },
    );
    if (!done.ETag) throw new Error(`s3://${o.bucket}/${o.key}: CompleteMultipartUpload returned no ETag`);
    return { bucket: o.bucket, key: o.key, uploadId: this.uploadId, etag: done.ETag, bytes: this.total, parts: parts.length, crc32: crc, sha256: this.sha.digest('hex') };
  }

  /** Drops the upload and its parts (best effort: a leftover is also found by abortIncompleteUploads). */
  async abort(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.inFlight);
    await this.options.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.options.bucket, Key: this.options.key, UploadId: this.uploadId }))
      .catch(() => undefined);
  }
}

/**
 * Aborts every incomplete multipart upload of exactly `key`: what a killed worker left behind. Only
 * one run works on a partition at a time (its workflow id), so any such upload is an orphan.
 */
export async function abortIncompleteUploads(s3: S3Client, bucket: string, key: string): Promise<number> {
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
    for (const u of page.Uploads ?? []) {
      if (u.Key !== key || !u.UploadId) continue;
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: u.UploadId }));
      aborted++;
    }
    if (!page.IsTruncated) return aborted;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
