// Backfill activities: plan a table's raw files of a date range as "reapply" batches, run the lake
// job on one with `reapply` (lake_job.py), record what it did, and tell which models the change log
// has moved past. The batches are recorded in lake_reapply_batches (migration 0008), never in
// lake_batches / lake_files: a backfill consumes nothing, moves no lake checkpoint and files no
// failed event (the batch that first set rows aside filed them already).
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/common/errors';
import { checkDate } from '../../lib/archive/partition';
import { buildUpsertSpec, changelogBasePath, DEFAULT_BATCH_LIMITS, filesInRange, latestCompletedInstant, planBatches, reapplyBatchId, type LakeUpsertResult } from '../../lib/lake/batches';
import { rawTableOf } from '../../lib/raw-zone/keys';
import { listTableFiles } from '../../lib/raw-zone/objects';
import type { LakeBackfillActivities, LakeBackfillSparkActivities, LakeReapplyPlan, ReapplyBatchPlan } from '../../workflows/backfillTable';
import { ModelCheckpoint } from '../warehouse/pull';
import { lakeCatalog, lakeTableOf, runLakeUpsertJob, type LakeDeps } from './index';

// The workflow's failure type (activities import only types from workflows).
const INVALID_BACKFILL = ErrorType.InvalidBackfillRequest;

interface BatchRow {
  batch_id: string;
  status: 'planned' | 'committed';
  file_count: number;
  byte_count: string;
  result: LakeUpsertResult | null;
}

export function createLakeBackfillActivities(deps: LakeDeps): LakeBackfillActivities & LakeBackfillSparkActivities {
  const { config, controlPlane, s3 } = deps;
  const pool = controlPlane.pool;
  const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

  /** The recorded plan of a backfill run, or null when it has none yet. */
  async function recordedPlan(backfillId: string, tableId: number): Promise<LakeReapplyPlan | null> {
    const { rows: found } = await pool.query<{ table_id: string; archived_missing: number; include_load: boolean }>('SELECT table_id, archived_missing, include_load FROM lake_backfills WHERE backfill_id = $1', [backfillId]);
    const backfill = found[0];
    if (!backfill) return null;
    if (Number(backfill.table_id) !== tableId) throw refuse(INVALID_BACKFILL, `backfill ${backfillId} belongs to table ${backfill.table_id}, not ${tableId}`);
    const { rows } = await pool.query<BatchRow>('SELECT batch_id, status, file_count, byte_count, result FROM lake_reapply_batches WHERE backfill_id = $1 ORDER BY seq', [backfillId]);
    const { rows: loads } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM lake_reapply_files f JOIN lake_reapply_batches b USING (batch_id) WHERE b.backfill_id = $1 AND f.object_key ~ '(^|/)LOAD[0-9A-F]{8}[.]parquet$'`,
      [backfillId],
    );
    const batches: ReapplyBatchPlan[] = rows.map((r) => ({ batchId: r.batch_id, files: r.file_count, bytes: Number(r.byte_count), committed: r.status === 'committed', result: r.result }));
    return {
      backfillId,
      files: batches.reduce((n, b) => n + b.files, 0),
      bytes: batches.reduce((n, b) => n + b.bytes, 0),
      loadFiles: Number(loads[0]?.n ?? 0),
      batches,
      archivedMissing: backfill.archived_missing,
    };
  }

  return {
    async planLakeReapply({ table: key, startDate, endDate, backfillId, workflowId, includeLoad, maxBatchBytes, maxBatchFiles }) {
      try {
        checkDate('startDate', startDate);
        checkDate('endDate', endDate);
      } catch (err) {
        throw refuse(INVALID_BACKFILL, (err as Error).message);
      }
      if (startDate > endDate) throw refuse(INVALID_BACKFILL, `startDate ${startDate} is after endDate ${endDate}`);
      const table = await lakeTableOf(controlPlane, key);
      if (table.pausedReason) throw refuse(ErrorType.TablePaused, `table ${key} is paused: ${table.pausedReason}`);
      // An attempt after a crash carries on with the plan it made: the same files, the same batch ids.
      const recorded = await recordedPlan(backfillId, table.tableId);
      if (recorded) return recorded;

      const listed = await listTableFiles(s3, config.buckets.raw, rawTableOf(table));
      const chosen = filesInRange(listed, startDate, endDate, includeLoad ?? false);
      const batches = planBatches(chosen, { maxBytes: maxBatchBytes ?? DEFAULT_BATCH_LIMITS.maxBytes, maxFiles: maxBatchFiles ?? DEFAULT_BATCH_LIMITS.maxFiles });
      // Files of the range an archive holds whose originals were deleted, and that are not back.
      const present = new Set(listed.map((f) => f.key));
      const { rows: archived } = await pool.query<{ object_key: string }>(
        `SELECT DISTINCT e.object_key FROM archive_entries e JOIN archives a USING (archive_id)
         WHERE a.table_id = $1 AND e.state = 'deleted' AND e.file_date BETWEEN $2::date AND $3::date`,
        [table.tableId, startDate, endDate],
      );
      const archivedMissing = archived.filter((r) => !present.has(r.object_key)).length;

      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const inserted = await client.query(
          `INSERT INTO lake_backfills (backfill_id, table_id, start_date, end_date, include_load, workflow_id, archived_missing)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (backfill_id) DO NOTHING`,
          [backfillId, table.tableId, startDate, endDate, includeLoad ?? false, workflowId ?? null, archivedMissing],
        );
        if (inserted.rowCount === 1) {
          for (const [seq, files] of batches.entries()) {
            const batchId = reapplyBatchId(table, backfillId, files);
            await client.query(`INSERT INTO lake_reapply_batches (batch_id, backfill_id, seq, status, file_count, byte_count) VALUES ($1, $2, $3, 'planned', $4, $5)`, [
              batchId,
              backfillId,
              seq,
              files.length,
              files.reduce((n, f) => n + f.size, 0),
            ]);
            for (const f of files) await client.query('INSERT INTO lake_reapply_files (batch_id, object_key, size_bytes) VALUES ($1, $2, $3)', [batchId, f.key, f.size]);
          }
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
      // Read back: an attempt that raced this one may have recorded the plan first.
      return (await recordedPlan(backfillId, table.tableId))!;
    },

    async runLakeReapply({ table: key, batchId }) {
      const table = await lakeTableOf(controlPlane, key);
      const { rows } = await pool.query<{ table_id: string; object_key: string | null; size_bytes: string | null }>(
        `SELECT k.table_id, f.object_key, f.size_bytes FROM lake_reapply_batches b JOIN lake_backfills k USING (backfill_id)
         LEFT JOIN lake_reapply_files f USING (batch_id) WHERE b.batch_id = $1 ORDER BY f.object_key`,
        [batchId],
      );
      if (!rows[0] || Number(rows[0].table_id) !== table.tableId) throw refuse(ErrorType.InvalidTableDefinition, `backfill batch ${batchId} of table ${key} does not exist`);
      const files = rows.filter((r) => r.object_key).map((r) => ({ key: r.object_key!, size: Number(r.size_bytes) }));
      // The table's definition as it is now: that is the point of a backfill.
      const spec = buildUpsertSpec(config, table, batchId, files, lakeCatalog(config), { reapply: true });
      return runLakeUpsertJob(deps, key, spec, `danau:lake-reapply:${batchId}`);
    },

    async commitLakeReapply({ table: key, batchId, result, run }) {
      const table = await lakeTableOf(controlPlane, key);
      const { rowCount } = await pool.query(
        `UPDATE lake_reapply_batches b SET status = 'committed', hudi_instant = $2, changelog_instant = $3, runner = $4, log_location = $5, result = $6, updated_at = now()
         FROM lake_backfills k
         WHERE b.batch_id = $1 AND b.status = 'planned' AND k.backfill_id = b.backfill_id AND k.table_id = $7`,
        [batchId, result.instant, result.changelogInstant, run.runner, run.logLocation, JSON.stringify(result), table.tableId],
      );
      return { committed: (rowCount ?? 0) > 0 };
    },

    async modelsBehindChangelog({ table: key, models }) {
      const table = await lakeTableOf(controlPlane, key);
      const changelogInstant = await latestCompletedInstant(s3, changelogBasePath(config, table));
      if (!changelogInstant) return { behind: [], changelogInstant };
      const behind: string[] = [];
      for (const model of models) {
        const at = (await controlPlane.getCheckpoint(ModelCheckpoint.model(model).pipeline, model))?.position ?? '';
        // Instants are fixed-width digits: a shorter (or no) position is older.
        if (at.length < changelogInstant.length || (at.length === changelogInstant.length && at < changelogInstant)) behind.push(model);
      }
      return { behind, changelogInstant };
    },
  };
}
