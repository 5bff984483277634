// The one S3 helper: every part of Danau that touches S3 gets its client here, so the endpoint,
// path style and checksum behaviour are decided once for AWS and the local server alike.
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DanauConfig } from '../config';

export function createS3Client(config: Pick<DanauConfig, 's3'>): S3Client {
  return new S3Client({
    region: config.s3.region,
    ...(config.s3.endpoint ? { endpoint: config.s3.endpoint } : {}),
    ...(config.s3.credentials ? { credentials: config.s3.credentials } : {}),
    forcePathStyle: config.s3.forcePathStyle,
    // Send and validate checksums only where an operation asks for them: the SDK's default
    // (a CRC32 trailer on every upload) is not understood by every S3-compatible server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}


/** A write-once object already holds other bytes: somebody else wrote this key. Never retried. */
export class ObjectConflictError extends Error {
  constructor(
    readonly bucket: string,
    readonly key: string,
  ) {
    super(`s3://${bucket}/${key} already exists with different content; refusing to overwrite it`);
    this.name = 'ObjectConflictError';
  }
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/**
 * Writes an object only if the key is free (`If-None-Match: *`, honoured by S3 since 2024 and by
 * S3Mock; test/integration/raw-zone-write-once.test.ts checks the local server). A key that already
 * holds the very same bytes is a retry of this write and counts as done; other bytes throw
 * ObjectConflictError, so a raw file is never silently replaced.
 */
export async function putObjectOnce(
  s3: S3Client,
  request: { bucket: string; key: string; body: Uint8Array; contentType?: string },
): Promise<'written' | 'already-there'> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: request.bucket, Key: request.key, Body: request.body, ContentType: request.contentType, IfNoneMatch: '*' }));
    return 'written';
  } catch (err) {
    // 412: the key exists. 409: a concurrent conditional write to the same key is in flight (S3).
    const status = httpStatus(err);
    if (status !== 412 && status !== 409) throw err;
  }
  const existing = await s3.send(new GetObjectCommand({ Bucket: request.bucket, Key: request.key }));
  const bytes = existing.Body ? await existing.Body.transformToByteArray() : new Uint8Array();
  if (Buffer.from(bytes).equals(Buffer.from(request.body))) return 'already-there';
  throw new ObjectConflictError(request.bucket, request.key);
}
