// Lake activities: planning batches of raw files, running the lake job on one, and recording what it
// did. The job itself is scripts/spark/lake_job.py; these only describe its work and read its result.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ErrorType } from '../../lib/common/errors';
import { tableKey } from '../../lib/common/temporal';
import type { DanauConfig } from '../../lib/config';
import type { ControlPlane, FailedEventInput, TableRecord } from '../../lib/control-plane/store';
import { batchLocations, buildUpsertSpec, DEFAULT_BATCH_LIMITS, lakeBatchId, nextBatch, type LakeUpsertResult, type LakeUpsertSpec } from '../../lib/lake/batches';
import { rawTableOf } from '../../lib/raw-zone/keys';
import { listTableFiles, readObject } from '../../lib/raw-zone/objects';
import { SparkJobError, type SparkRunner } from '../../lib/spark/runner';
import type { LakeActivities, LakeJobRun, LakeSparkActivities } from '../../workflows/upsertLakeTable';

export interface LakeDeps {
  config: DanauConfig;
  controlPlane: ControlPlane;
  s3: S3Client;
  runner: SparkRunner;
}

export const LAKE_JOB = 'scripts/spark/lake_job.py';

/** The table's lake checkpoint: the last Hudi instant applied (what incremental pulls start from). */
export const LakeCheckpoint = { table: (key: string) => ({ pipeline: 'lake', subject: key }) };

// A job error that will happen again on a retry: the data or the table definition is wrong.
const DETERMINISTIC = /AnalysisException|SchemaCompatibilityException|Failed to merge incompatible data types|NumberFormatException|KeyError|ValueError/;

/** The onboarded table named `source.schema.table`, or a non-retryable failure saying it is not. */
export async function lakeTableOf(controlPlane: ControlPlane, key: string): Promise<TableRecord> {
  const [source, schema, name, ...rest] = key.split('.');
  const table = source && schema && name && rest.length === 0 ? await controlPlane.getTable(source, schema, name) : null;
  if (!table) throw ApplicationFailure.create({ type: ErrorType.InvalidTableDefinition, message: `table ${key}: not onboarded (danau tables list)`, nonRetryable: true });
  return table;
}

/** Production syncs each Hudi table to the Glue Data Catalog; locally there is no catalog. */
export function lakeCatalog(config: DanauConfig): LakeUpsertSpec['catalog'] {
  return config.catalog.glueDatabase ? { type: 'glue' as const, database: config.catalog.glueDatabase } : null;
}

/**
 * Runs `lake_job.py upsert` on one batch's spec (an EMR step or local spark-submit, heartbeating;
 * cancelling the activity stops the job) and reads its result object. The lake step and backfills
 * both run their batches through this.
 */
export async function runLakeUpsertJob({ config, s3, runner }: LakeDeps, key: string, spec: LakeUpsertSpec, jobName: string): Promise<{ result: LakeUpsertResult; run: LakeJobRun }> {
  const ctx = Context.current();
  const batchId = spec.batchId;
  const at = batchLocations(config, batchId);
  const bucket = config.buckets.processed;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: at.specKey, Body: JSON.stringify(spec, null, 2), ContentType: 'application/json' }));
  // A result left by an earlier attempt must not be read as this one's.
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: at.resultKey }));
  const readResult = async (): Promise<LakeUpsertResult | null> => {
    try {
      return JSON.parse(Buffer.from(await readObject(s3, bucket, at.resultKey)).toString('utf8')) as LakeUpsertResult;
    } catch {
      return null;
    }
  };
  let outcome;
  try {
    outcome = await runner.run({
      script: LAKE_JOB,
      args: ['upsert', '--spec', `s3://${bucket}/${at.specKey}`],
      name: jobName,
      signal: ctx.cancellationSignal,
      heartbeat: (progress) => ctx.heartbeat(progress),
    });
  } catch (err) {
    // Cancelled: the runner stopped the job; saying so makes the run end Cancelled, not Failed.
    if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`lake job for batch ${batchId} of ${key} cancelled: the job was stopped`, undefined, err instanceof Error ? err : undefined);
    if (!(err instanceof SparkJobError)) throw err;
    const reported = await readResult();
    const reason = reported?.error ?? err.message;
    throw ApplicationFailure.create({
      type: DETERMINISTIC.test(reason) ? ErrorType.LakeJobFailed : 'LakeJobError',
      message: `table ${key}: lake job for batch ${batchId} failed: ${reason} (log: ${err.logFile})`,
      nonRetryable: DETERMINISTIC.test(reason),
    });
  }
  const result = await readResult();
  if (!result?.ok) throw new Error(`table ${key}: lake job for batch ${batchId} finished without a result at s3://${bucket}/${at.resultKey} (log: ${outcome.logLocation})`);
  return { result, run: { runner: outcome.runner, attached: outcome.attached, logLocation: outcome.logLocation, elapsedMs: outcome.elapsedMs } };
}

export function createLakeActivities(deps: LakeDeps): LakeActivities & LakeSparkActivities {
  const { config, controlPlane, s3 } = deps;
  const tableOf = (key: string): Promise<TableRecord> => lakeTableOf(controlPlane, key);

  return {
    async planLakeBatch({ table: key, maxBatchBytes, maxBatchFiles }) {
      const table = await tableOf(key);
      if (table.pausedReason) throw ApplicationFailure.create({ type: ErrorType.TablePaused, message: `table ${key} is paused: ${table.pausedReason}`, nonRetryable: true });
      const open = await controlPlane.openLakeBatch(table.tableId);
      if (open) return { batchId: open.batchId, files: open.files.length, bytes: open.files.reduce((n, f) => n + f.size, 0), resumed: true };
      const files = await listTableFiles(s3, config.buckets.raw, rawTableOf(table));
      const batch = nextBatch(files, await controlPlane.consumedLakeFiles(table.tableId), {
        maxBytes: maxBatchBytes ?? DEFAULT_BATCH_LIMITS.maxBytes,
        maxFiles: maxBatchFiles ?? DEFAULT_BATCH_LIMITS.maxFiles,
      });
      if (batch.length === 0) return null;
      const wanted = lakeBatchId(table, batch);
      const planned = await controlPlane.planLakeBatch({ batchId: wanted, tableId: table.tableId, files: batch.map((f) => ({ key: f.key, size: f.size })) });
      if (planned.batchId !== wanted) {
        const open = (await controlPlane.getLakeBatch(planned.batchId))!;
        return { batchId: open.batchId, files: open.files.length, bytes: open.files.reduce((n, f) => n + f.size, 0), resumed: true };
      }
      return { batchId: wanted, files: batch.length, bytes: batch.reduce((n, f) => n + f.size, 0), resumed: false };
    },

    async runLakeUpsert({ table: key, batchId }) {
      const table = await tableOf(key);
      const batch = await controlPlane.getLakeBatch(batchId);
      if (!batch || batch.tableId !== table.tableId) throw ApplicationFailure.create({ type: ErrorType.InvalidTableDefinition, message: `lake batch ${batchId} of table ${key} does not exist`, nonRetryable: true });
      const spec = buildUpsertSpec(config, table, batchId, batch.files, lakeCatalog(config));
      return runLakeUpsertJob(deps, key, spec, `danau:lake-upsert:${batchId}`);
    },

    async commitLakeBatch({ table: key, batchId, result, run }) {
      const table = await tableOf(key);
      const at = batchLocations(config, batchId);
      const failed: FailedEventInput[] = [];
      // One event per batch and reason, pointing at the rows: the rows themselves stay in S3.
      if (result.rowsStale > 0) {
        failed.push({ pipeline: 'lake-upsert', tableId: table.tableId, subject: batchId, errorType: ErrorType.StaleChange, reason: `${result.rowsStale} change(s) older than the stored rows were set aside (ordering guard)`, dataRef: { uri: at.staleUri, batchId, rows: result.rowsStale } });
      }
      if (result.rowsQuarantined > 0) {
        failed.push({ pipeline: 'lake-upsert', tableId: table.tableId, subject: batchId, errorType: ErrorType.UncastableValue, reason: `${result.rowsQuarantined} row(s) had a value that does not cast to its lake type`, dataRef: { uri: at.quarantineUri, batchId, rows: result.rowsQuarantined } });
      }
      const subject = tableKey({ source: table.sourceName, schema: table.schemaName, table: table.tableName });
      const checkpoint = result.instant ? { ...LakeCheckpoint.table(subject), position: result.instant, details: { batchId, changelogInstant: result.changelogInstant } } : null;
      const committed = await controlPlane.commitLakeBatch(batchId, result, { runner: run.runner, logLocation: run.logLocation }, failed, checkpoint);
      const latest = await controlPlane.getCheckpoint(LakeCheckpoint.table(subject).pipeline, subject);
      return { committed, latestInstant: latest?.position ?? null };
    },
  };
}
