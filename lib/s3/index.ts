// The one S3 helper: every part of Danau that touches S3 gets its client here, so the endpoint,
// path style and checksum behaviour are decided once for AWS and the local server alike.
import { S3Client } from '@aws-sdk/client-s3';
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

