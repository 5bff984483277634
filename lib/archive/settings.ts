// Archive settings that come from the environment (DANAU_ARCHIVE_*), validated here because the
// shared configuration loader does not know them yet: server-side encryption for zips and for
// recovered files, and whether to send S3 checksums. See the report of issue 6 for moving these
// into lib/config.
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
  /** Multipart part size in bytes (DANAU_ARCHIVE_PART_MIB, default 8). */
  partSize: number;
  /** GETs running ahead of the zip writer (DANAU_ARCHIVE_GET_CONCURRENCY, default 16). */
  getConcurrency: number;
  /** Deflate level 1-9 (DANAU_ARCHIVE_DEFLATE_LEVEL, default 6). */
  deflateLevel: number;
}

export const DEFAULT_ARCHIVE_SETTINGS: ArchiveSettings = { s3Checksum: true, conditionalDelete: true, partSize: 8 * 1024 * 1024, getConcurrency: 16, deflateLevel: 6 };

function sse(type: string | undefined, keyId: string | undefined, name: string, problems: string[]): ServerSideEncryption | undefined {
  if (!type) return undefined;
  if (type !== 'AES256' && type !== 'aws:kms') {
    problems.push(`${name}: must be AES256 or aws:kms`);
    return undefined;
  }
  return type === 'aws:kms' && keyId ? { type, kmsKeyId: keyId } : { type };
}

function bool(v: string | undefined, name: string, fallback: boolean, problems: string[]): boolean {
  if (v === undefined || v === '') return fallback;
  if (['true', '1'].includes(v)) return true;
  if (['false', '0'].includes(v)) return false;
  problems.push(`${name}: must be true or false`);
  return fallback;
}

function int(v: string | undefined, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name}: must be an integer from ${min} to ${max}`);
    return fallback;
  }
  return n;
}

/** Reads DANAU_ARCHIVE_* (and DANAU_RAW_SSE*); throws naming every variable that is wrong. */
export function archiveSettingsFromEnvironment(env: Readonly<Record<string, string | undefined>>): ArchiveSettings {
  const problems: string[] = [];
  const settings: ArchiveSettings = {
    sse: sse(env.DANAU_ARCHIVE_SSE, env.DANAU_ARCHIVE_KMS_KEY_ID, 'DANAU_ARCHIVE_SSE', problems),
    rawSse: sse(env.DANAU_RAW_SSE, env.DANAU_RAW_KMS_KEY_ID, 'DANAU_RAW_SSE', problems),
    s3Checksum: bool(env.DANAU_ARCHIVE_S3_CHECKSUM, 'DANAU_ARCHIVE_S3_CHECKSUM', DEFAULT_ARCHIVE_SETTINGS.s3Checksum, problems),
    conditionalDelete: bool(env.DANAU_ARCHIVE_CONDITIONAL_DELETE, 'DANAU_ARCHIVE_CONDITIONAL_DELETE', DEFAULT_ARCHIVE_SETTINGS.conditionalDelete, problems),
    partSize: int(env.DANAU_ARCHIVE_PART_MIB, 'DANAU_ARCHIVE_PART_MIB', 8, 5, 5120, problems) * 1024 * 1024,
    getConcurrency: int(env.DANAU_ARCHIVE_GET_CONCURRENCY, 'DANAU_ARCHIVE_GET_CONCURRENCY', DEFAULT_ARCHIVE_SETTINGS.getConcurrency, 1, 256, problems),
    deflateLevel: int(env.DANAU_ARCHIVE_DEFLATE_LEVEL, 'DANAU_ARCHIVE_DEFLATE_LEVEL', DEFAULT_ARCHIVE_SETTINGS.deflateLevel, 1, 9, problems),
  };
  if (problems.length) throw new Error(`invalid archive settings:\n  - ${problems.join('\n  - ')}`);
  return settings;
}
