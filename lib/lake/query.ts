// Queries over the processed zone. One interface, two engines: Spark SQL through the lake job (the
// same client and runner as the upserts: the warm engine locally), and Athena in production (lib/lake/athena.ts).
// Both see the same names: `<source>_<schema>_<table>`, and for MERGE_ON_READ `_rt` and `_ro`.
import { createHash, randomUUID } from 'node:crypto';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DanauConfig } from '../config';
import { LakeJobClient } from './job-client';
import type { LakeTableRef } from './job-contract';
import type { SparkRunner } from '../spark/runner';

export type { LakeTableRef } from './job-contract';

export interface IncrementalReport {
  table: string;
  beginInstant: string;
  /** The start is older than what the cleaner keeps: an incremental pull could miss changes. */
  startCleaned: boolean;
  fallback: 'full-scan' | null;
  latestInstant: string | null;
  earliestSafeInstant: string | null;
}

export interface LakeQueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  truncated: boolean;
  incremental: IncrementalReport[];
}

export interface LakeQueryEngine {
  query(tables: LakeTableRef[], sql: string, options?: { maxRows?: number; signal?: AbortSignal }): Promise<LakeQueryResult>;
}

export class LakeQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LakeQueryError';
  }
}

export class SparkSqlQueryEngine implements LakeQueryEngine {
  constructor(
    private readonly runner: SparkRunner,
    private readonly s3: S3Client,
    private readonly config: Pick<DanauConfig, 'buckets'>,
  ) {}

  async query(tables: LakeTableRef[], sql: string, options: { maxRows?: number; signal?: AbortSignal } = {}): Promise<LakeQueryResult> {
    const bucket = this.config.buckets.processed;
    const id = `${createHash('sha256').update(sql).digest('hex').slice(0, 8)}-${randomUUID()}`;
    const specKey = `_danau/queries/${id}/spec.json`;
    const resultKey = `_danau/queries/${id}/result.json`;
    const spec = { tables, sql, maxRows: options.maxRows ?? 10_000, resultUri: `s3://${bucket}/${resultKey}` };
    try {
      const { result } = await new LakeJobClient({ s3: this.s3, bucket, runner: this.runner }).run('query', spec, { specKey, name: `danau:lake-query:${id}`, signal: options.signal });
      return {
        columns: result.columns,
        rows: result.rows,
        truncated: result.truncated,
        incremental: result.incremental.map((r) => ({ ...r, latestInstant: r.latestInstant ?? null, earliestSafeInstant: r.earliestSafeInstant ?? null })),
      };
    } catch (err) {
      throw new LakeQueryError(`lake query failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: specKey })).catch(() => undefined);
      await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: resultKey })).catch(() => undefined);
    }
  }
}
