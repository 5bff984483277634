// Lake activities: planning batches of raw files, running the lake job on one, and recording what it
// did. The job itself is scripts/spark/lake_job.py; these only describe its work and read its result.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { S3Client } from '@aws-sdk/client-s3';
import { ErrorType } from '../../lib/common/errors';
import { tableKey } from '../../lib/common/temporal';
import type { DanauConfig } from '../../lib/config';
import type { ControlPlane, FailedEventInput, TableRecord } from '../../lib/control-plane/store';
import { batchLocations, buildUpsertSpec, DEFAULT_BATCH_LIMITS, lakeBatchId, nextBatch, type LakeUpsertResult, type LakeUpsertSpec } from '../../lib/lake/batches';
import { rawTableOf } from '../../lib/raw-zone/keys';
import { LakeJobClient, lakeJobActivityFailure } from '../../lib/lake/job-client';
import { listTableFiles } from '../../lib/raw-zone/objects';
import type { SparkRunner } from '../../lib/spark/runner';
import type { LakeActivities, LakeJobRun, LakeSparkActivities } from '../../workflows/upsertLakeTable';

export interface LakeDeps {
  config: DanauConfig;
  controlPlane: ControlPlane;
  s3: S3Client;
  runner: SparkRunner;
}

/** The table's lake checkpoint: the last Hudi instant applied (what incremental pulls start from). */
export const LakeCheckpoint = { table: (key: string) => ({ pipeline: 'lake', subject: key }) };

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
 * Runs the lake job's upsert on one batch's spec (in the warm engine, an EMR step or a local
 * spark-submit, heartbeating; cancelling the activity stops the job) and returns its result. The lake
 * step and backfills both run their batches through this.
 */
export async function runLakeUpsertJob({ config, s3, runner }: LakeDeps, key: string, spec: LakeUpsertSpec, jobName: string): Promise<{ result: LakeUpsertResult; run: LakeJobRun }> {
  const ctx = Context.current();
  const client = new LakeJobClient({ s3, bucket: config.buckets.processed, runner });
  try {
    const { result, outcome } = await client.run('upsert', spec, {
      specKey: batchLocations(config, spec.batchId).specKey,
      name: jobName,
      signal: ctx.cancellationSignal,
      heartbeat: (progress) => ctx.heartbeat(progress),
    });
    return { result, run: { runner: outcome.runner, attached: outcome.attached, logLocation: outcome.logLocation, elapsedMs: outcome.elapsedMs } };
  } catch (err) {
    throw lakeJobActivityFailure(err, `table ${key}: lake job for batch ${spec.batchId}`);
  }
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
