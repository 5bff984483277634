// Archive settings: server-side encryption for zips and for recovered files, whether to send S3
// checksums, and the pace of the zip writer. The one config loader (lib/config) reads them from
// DANAU_ARCHIVE_* and DANAU_RAW_SSE* into `config.archive`; these are the types and the defaults.
import type { ServerSideEncryption } from './multipart';

export interface ArchiveSettings {
  /** SSE for the zips (DANAU_ARCHIVE_SSE = AES256 | aws:kms, DANAU_ARCHIVE_KMS_KEY_ID). */
  sse?: ServerSideEncryption;
  /** SSE for files recovered into the raw zone (DANAU_RAW_SSE, DANAU_RAW_KMS_KEY_ID). */
  rawSse?: ServerSideEncryption;
  /** Send CRC-32 checksums the store verifies (DANAU_ARCHIVE_S3_CHECKSUM, default true). */
  s3Checksum: boolean;
  /** DeleteObjects carries each key's ETag, so S3 refuses to delete a changed object (DANAU_ARCHIVE_CONDITIONAL_DELETE, default true). */
  conditionalDelete: boolean;
  /** Multipart part size in bytes (DANAU_ARCHIVE_PART_MIB, 5 to 5120, default 8). */
  partSize: number;
  /** GETs running ahead of the zip writer (DANAU_ARCHIVE_GET_CONCURRENCY, 1 to 256, default 16). */
  getConcurrency: number;
  /** Deflate level 1-9 (DANAU_ARCHIVE_DEFLATE_LEVEL, default 6). */
  deflateLevel: number;
}

export const DEFAULT_ARCHIVE_SETTINGS: ArchiveSettings = { s3Checksum: true, conditionalDelete: true, partSize: 8 * 1024 * 1024, getConcurrency: 16, deflateLevel: 6 };
