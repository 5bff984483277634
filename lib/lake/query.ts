// Queries over the processed zone. One interface, two engines: Spark SQL through the lake job on
// this machine (the same runner as the upserts), and Athena in production (lib/lake/athena.ts).
// Both see the same names: `<source>_<schema>_<table>`, and for MERGE_ON_READ `_rt` and `_ro`.
import { createHash, randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DanauConfig } from '../config';
import { readObject } from '../raw-zone/objects';
import type { SparkRunner } from '../spark/runner';

export interface LakeTableRef {
  /** The view name, e.g. clinic_clinic_patients. */
  name: string;
  basePath: string;
  tableType: 'COPY_ON_WRITE' | 'MERGE_ON_READ';
  cleanerCommitsRetained?: number;
  /** Registers `<name>_changes`: the commits after `beginInstant` (up to `endInstant`). */
  incremental?: { beginInstant: string; endInstant?: string; onCleaned?: 'fail' | 'full' };
}

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
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: specKey, Body: JSON.stringify(spec), ContentType: 'application/json' }));
    try {
      let failure: unknown = null;
      await this.runner
        .run({ script: 'scripts/spark/lake_job.py', args: ['query', '--spec', `s3://${bucket}/${specKey}`], name: `danau:lake-query:${id}`, signal: options.signal })
        .catch((err: unknown) => (failure = err));
      const result = await readObject(this.s3, bucket, resultKey).then(
        (b) => JSON.parse(Buffer.from(b).toString('utf8')) as LakeQueryResult & { ok: boolean; error?: string },
        () => null,
      );
      if (!result?.ok) throw new LakeQueryError(`lake query failed: ${result?.error ?? (failure instanceof Error ? failure.message : 'no result written')}`);
      return { columns: result.columns, rows: result.rows, truncated: result.truncated, incremental: result.incremental };
    } finally {
      await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: specKey })).catch(() => undefined);
      await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: resultKey })).catch(() => undefined);
    }
  }
}
