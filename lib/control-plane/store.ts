// Reads and writes of the control plane. Every change made on a person's behalf writes an audit row
// in the same transaction as the change itself.
import pg from 'pg';
import type { HudiIndexType } from '../lake/job-contract';
import type { SourceRecord } from '../sources/types';
import { TableDefinitionError, type LakeColumn, type SourceDefinition, type TableDefinition } from '../tables/definition';
import { modelDependencies, type ModelDefinition, type ReportingDefinition } from '../models/definition';

export interface TableRecord {
  tableId: number;
  sourceName: string;
  schemaName: string;
  tableName: string;
  primaryKey: string[];
  precombineField: string;
  partitionField: string;
  hudiTableType: 'COPY_ON_WRITE' | 'MERGE_ON_READ';
  cleanerCommitsRetained: number;
  hudiIndexType: HudiIndexType;
  compactionDeltaCommits: number;
  archiveLevel: 'day' | 'month';
  archiveAfterDays: number;
  freshnessSlaMinutes: number;
  schedule: string;
  enabled: boolean;
  pausedReason: string | null;
  columns: LakeColumn[];
  createdAt: string;
  updatedAt: string;
}

export type RecordOutcome = 'created' | 'updated' | 'unchanged';

export interface LakeBatchPlan {
  batchId: string;
  tableId: number;
  files: { key: string; size: number }[];
}

/** What the lake job reported for a batch (lake_job.py's result object). */
export interface LakeBatchFigures {
  instant: string | null;
  alreadyApplied: boolean;
  rowsRead: number;
  rowsUpserted: number;
  rowsDeleted: number;
  rowsStale: number;
  rowsQuarantined: number;
}

export interface FailedEventInput {
  pipeline: string;
  tableId: number | null;
  subject: string;
  errorType: string;
  reason: string;
  dataRef: Record<string, unknown>;
}

/** Why a table's capture stopped (checkpoints capture-table/<table>, details.suspended). */
export interface CaptureSuspension {
  errorType: string;
  /** Names the table and column, never a value. */
  reason: string;
  column: string | null;
  at: string;
}

export interface Checkpoint {
  pipeline: string;
  subject: string;
  position: string;
  details: Record<string, unknown>;
}

interface TableRow {
  table_id: string;
  source_name: string;
  schema_name: string;
  table_name: string;
  primary_key: string[];
  precombine_field: string;
  partition_field: string;
  hudi_table_type: 'COPY_ON_WRITE' | 'MERGE_ON_READ';
  cleaner_commits_retained: number;
  hudi_index_type: HudiIndexType;
  compaction_delta_commits: number;
  archive_level: 'day' | 'month';
  archive_after_days: number;
  freshness_sla_minutes: number;
  schedule_cron: string;
  enabled: boolean;
  paused_reason: string | null;
  columns: LakeColumn[];
  created_at: Date;
  updated_at: Date;
}

function toTableRecord(r: TableRow): TableRecord {
  return {
    tableId: Number(r.table_id),
    sourceName: r.source_name,
    schemaName: r.schema_name,
    tableName: r.table_name,
    primaryKey: r.primary_key,
    precombineField: r.precombine_field,
    partitionField: r.partition_field,
    hudiTableType: r.hudi_table_type,
    cleanerCommitsRetained: r.cleaner_commits_retained,
    hudiIndexType: r.hudi_index_type,
    compactionDeltaCommits: r.compaction_delta_commits,
    archiveLevel: r.archive_level,
    archiveAfterDays: r.archive_after_days,
    freshnessSlaMinutes: r.freshness_sla_minutes,
    schedule: r.schedule_cron,
    enabled: r.enabled,
    pausedReason: r.paused_reason,
    columns: r.columns,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export class ControlPlane {
  constructor(readonly pool: pg.Pool) {}

  static connect(connectionString: string): ControlPlane {
    const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 10_000 });
    // An idle client lost to a server restart must not crash the worker: the next query reconnects,
    // and an activity that fails meanwhile is retried.
    pool.on('error', () => undefined);
    return new ControlPlane(pool);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      // If ROLLBACK fails too, the connection is broken: drop it, and report the original error.
      const broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackErr: Error) => rollbackErr,
      );
      client.release(broken);
      throw err;
    }
  }

  /**
   * After raw files of the layout before `<source>/` prefixes were copied under their source
   * (lib/raw-zone/legacy.ts), points every record of them at the new key in one transaction: the
   * files the lake consumed, backfill reapplies and the ingestion checks' last key. `moves` maps old key to new key, all of one table.
   */
  async moveRawKeys(tableId: number, tableKeyText: string, moves: ReadonlyMap<string, string>, actor: string): Promise<void> {
    const from = [...moves.keys()];
    const to = from.map((k) => moves.get(k)!);
    await this.inTransaction(async (c) => {
      const rekey = (sql: string) => c.query(sql, [tableId, from, to]);
      const mapped = `FROM unnest($2::text[], $3::text[]) AS m(old_key, new_key)`;
      await rekey(`UPDATE lake_files f SET object_key = m.new_key ${mapped} WHERE f.table_id = $1 AND f.object_key = m.old_key`);
      await rekey(
        `UPDATE lake_reapply_files f SET object_key = m.new_key ${mapped}, lake_reapply_batches r, lake_backfills b
          WHERE f.object_key = m.old_key AND r.batch_id = f.batch_id AND b.backfill_id = r.backfill_id AND b.table_id = $1`,
      );
      // Archive entries keep their old keys: they are the names inside the zips (recovery puts
      // such an entry back under its source's prefix).
      await c.query(
        `UPDATE checkpoints c SET details = jsonb_set(c.details, '{lastKey}', to_jsonb(m.new_key)) ${mapped}
          WHERE c.pipeline = 'ingestion-check' AND c.subject = $1 AND c.details->>'lastKey' = m.old_key`,
        [tableKeyText, from, to],
      );
      await this.audit(c, actor, 'raw-zone.moved', `table:${tableKeyText}`, { files: from.length, example: from[0] ? { from: from[0], to: to[0] } : null });
    });
  }

  async upsertSource(def: SourceDefinition, actor: string): Promise<RecordOutcome> {
    return this.inTransaction(async (c) => {
      await lockSubject(c, `source:${def.name}`);
      const before = await c.query<{ engine: string; database_name: string; connection_secret: string; description: string }>(
        'SELECT engine, database_name, connection_secret, description FROM sources WHERE source_name = $1 FOR UPDATE',
        [def.name],
      );
      const prior = before.rows[0];
      const same =
        prior &&
        prior.engine === def.engine &&
        prior.database_name === def.database &&
        prior.connection_secret === def.connectionSecret &&
        prior.description === def.description;
      if (same) return 'unchanged';
      await c.query(
        `INSERT INTO sources (source_name, engine, database_name, connection_secret, description)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (source_name) DO UPDATE SET engine = EXCLUDED.engine, database_name = EXCLUDED.database_name,
           connection_secret = EXCLUDED.connection_secret, description = EXCLUDED.description, updated_at = now()`,
        [def.name, def.engine, def.database, def.connectionSecret, def.description],
      );
      const outcome: RecordOutcome = prior ? 'updated' : 'created';
      await this.audit(c, actor, `source.${outcome}`, `source:${def.name}`, { before: prior ?? null, after: def });
      return outcome;
    });
  }

  async getSource(name: string): Promise<SourceRecord | null> {
    const { rows } = await this.pool.query<{
      source_name: string;
      engine: 'mysql' | 'postgres';
      database_name: string;
      connection_secret: string;
      description: string;
    }>('SELECT source_name, engine, database_name, connection_secret, description FROM sources WHERE source_name = $1', [name]);
    const r = rows[0];
    return r
      ? { sourceName: r.source_name, engine: r.engine, databaseName: r.database_name, connectionSecret: r.connection_secret, description: r.description }
      : null;
  }

  async listSources(): Promise<SourceRecord[]> {
    const { rows } = await this.pool.query<{ source_name: string }>('SELECT source_name FROM sources ORDER BY source_name');
    const out: SourceRecord[] = [];
    for (const r of rows) {
      const s = await this.getSource(r.source_name);
      if (s) out.push(s);
    }
    return out;
  }

  /**
   * Records an onboarded table (insert, or update if its settings changed) and its audit row, in one
   * transaction: either both are written or neither.
   */
  async recordTable(def: TableDefinition, primaryKey: string[], columns: LakeColumn[], actor: string): Promise<{ table: TableRecord; outcome: RecordOutcome }> {
    return this.inTransaction(async (c) => {
      // FOR UPDATE locks nothing while the row does not exist: two first onboardings of one table
      // would both record `created`. The advisory lock serialises them.
      await lockSubject(c, `table:${def.source}.${def.schema}.${def.table}`);
      // Every place a table writes is named from its three parts: raw files under
      // <source>/<schema>/<table>/, the lake under the same, and one Glue/Hudi table named
      // <source>_<schema>_<table>, which Glue lower-cases. Two tables whose names meet there would
      // write one table, so the second is refused.
      const catalogName = `${def.source}_${def.schema}_${def.table}`.toLowerCase();
      await lockSubject(c, `catalog:${catalogName}`);
      const clash = await c.query<{ source_name: string; schema_name: string; table_name: string }>(
        `SELECT source_name, schema_name, table_name FROM tables
          WHERE lower(source_name || '_' || schema_name || '_' || table_name) = $1 AND NOT (source_name = $2 AND schema_name = $3 AND table_name = $4)`,
        [catalogName, def.source, def.schema, def.table],
      );
      if (clash.rows[0]) {
        const other = clash.rows[0];
        throw new TableDefinitionError([
          `table ${def.source}.${def.schema}.${def.table}: its lake catalog name ${catalogName} is already table ${other.source_name}.${other.schema_name}.${other.table_name}'s (Glue lower-cases <source>_<schema>_<table>): the two would write one lake table`,
        ]);
      }
      const before = await c.query<TableRow>(
        'SELECT * FROM tables WHERE source_name = $1 AND schema_name = $2 AND table_name = $3 FOR UPDATE',
        [def.source, def.schema, def.table],
      );
      const values = [
        def.source,
        def.schema,
        def.table,
        primaryKey,
        def.precombineField,
        def.partitionField,
        def.hudiTableType,
        def.cleanerCommitsRetained,
        def.archiveLevel,
        def.archiveAfterDays,
        def.freshnessSlaMinutes,
        def.schedule,
        def.enabled,
        JSON.stringify(columns),
        def.hudiIndexType,
        def.compactionDeltaCommits,
      ];
      const prior = before.rows[0] ? toTableRecord(before.rows[0]) : null;
      if (prior && sameSettings(prior, def, primaryKey, columns)) return { table: prior, outcome: 'unchanged' as const };
      const { rows } = await c.query<TableRow>(
        `INSERT INTO tables (source_name, schema_name, table_name, primary_key, precombine_field, partition_field,
            hudi_table_type, cleaner_commits_retained, archive_level, archive_after_days, freshness_sla_minutes,
            schedule_cron, enabled, columns, hudi_index_type, compaction_delta_commits)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (source_name, schema_name, table_name) DO UPDATE SET
           primary_key = EXCLUDED.primary_key, precombine_field = EXCLUDED.precombine_field,
           partition_field = EXCLUDED.partition_field, hudi_table_type = EXCLUDED.hudi_table_type,
           cleaner_commits_retained = EXCLUDED.cleaner_commits_retained, archive_level = EXCLUDED.archive_level,
           archive_after_days = EXCLUDED.archive_after_days, freshness_sla_minutes = EXCLUDED.freshness_sla_minutes,
           schedule_cron = EXCLUDED.schedule_cron, enabled = EXCLUDED.enabled, columns = EXCLUDED.columns,
           hudi_index_type = EXCLUDED.hudi_index_type, compaction_delta_commits = EXCLUDED.compaction_delta_commits,
           updated_at = now()
         RETURNING *`,
        values,
      );
      const table = toTableRecord(rows[0]!);
      const outcome: RecordOutcome = prior ? 'updated' : 'created';
      await this.audit(c, actor, `table.${outcome}`, `table:${def.source}.${def.schema}.${def.table}`, {
        before: prior,
        after: { ...def, primaryKey, columns },
      });
      return { table, outcome };
    });
  }

  async getCheckpoint(pipeline: string, subject: string): Promise<Checkpoint | null> {
    const { rows } = await this.pool.query<{ position: string; details: Record<string, unknown> }>(
      'SELECT position, details FROM checkpoints WHERE pipeline = $1 AND subject = $2',
      [pipeline, subject],
    );
    return rows[0] ? { pipeline, subject, position: rows[0].position, details: rows[0].details } : null;
  }

  /**
   * Saves several checkpoints at once: a window's table positions and its source position move
   * together. With `unless`, nothing is saved (and false returned) when that checkpoint no longer
   * holds the expected detail: another attempt of the same window got there first.
   */
  async saveCheckpoints(entries: Checkpoint[], unless?: { pipeline: string; subject: string; key: string; value: string }): Promise<boolean> {
    return this.inTransaction(async (c) => {
      if (unless) {
        const { rows } = await c.query<{ details: Record<string, unknown> }>(
          'SELECT details FROM checkpoints WHERE pipeline = $1 AND subject = $2 FOR UPDATE',
          [unless.pipeline, unless.subject],
        );
        if (rows[0]?.details[unless.key] !== unless.value) return false;
      }
      for (const e of entries) {
        await c.query(
          `INSERT INTO checkpoints (pipeline, subject, position, details) VALUES ($1, $2, $3, $4)
           ON CONFLICT (pipeline, subject) DO UPDATE SET position = EXCLUDED.position, details = EXCLUDED.details, updated_at = now()`,
          [e.pipeline, e.subject, e.position, JSON.stringify(e.details)],
        );
      }
      return true;
    });
  }

  /** Records one run of a table's ingestion checks, all rows at once. */
  async recordIngestionChecks(tableId: number, checks: { name: 'freshness' | 'continuity' | 'schema_drift' | 'reconciliation'; ok: boolean; message: string; details: unknown }[]): Promise<void> {
    await this.inTransaction(async (c) => {
      for (const check of checks) {
        await c.query('INSERT INTO ingestion_checks (table_id, check_name, ok, message, details) VALUES ($1, $2, $3, $4, $5)', [
          tableId,
          check.name,
          check.ok,
          check.message,
          JSON.stringify(check.details),
        ]);
      }
    });
  }

  /** Pauses a table's pipeline with the reason a person will read; capture goes on, so nothing is lost. */
  async pauseTable(tableId: number, reason: string, actor: string): Promise<void> {
    await this.inTransaction(async (c) => {
      const { rows } = await c.query<{ source_name: string; schema_name: string; table_name: string }>(
        'UPDATE tables SET paused_reason = $2, updated_at = now() WHERE table_id = $1 RETURNING source_name, schema_name, table_name',
        [tableId, reason],
      );
      const t = rows[0];
      if (t) await this.audit(c, actor, 'table.paused', `table:${t.source_name}.${t.schema_name}.${t.table_name}`, { reason });
    });
  }

  /**
   * Suspends a table's capture on a problem no retry can fix: its capture-table checkpoint records
   * the problem (capture then skips the table) and its pipeline is paused with the reason. Returns
   * false when it was suspended already, so a problem is filed once, not once per attempt.
   */
  async suspendTableCapture(key: string, problem: CaptureSuspension, actor: string): Promise<boolean> {
    return this.inTransaction(async (c) => {
      const { rows } = await c.query<{ position: string; details: Record<string, unknown> }>(
        "SELECT position, details FROM checkpoints WHERE pipeline = 'capture-table' AND subject = $1 FOR UPDATE",
        [key],
      );
      if (rows[0]?.details.suspended) return false;
      await c.query(
        `INSERT INTO checkpoints (pipeline, subject, position, details) VALUES ('capture-table', $1, $2, $3)
         ON CONFLICT (pipeline, subject) DO UPDATE SET details = EXCLUDED.details, updated_at = now()`,
        [key, rows[0]?.position ?? '', JSON.stringify({ ...(rows[0]?.details ?? {}), suspended: problem })],
      );
      await c.query(
        "UPDATE tables SET paused_reason = $2, updated_at = now() WHERE source_name || '.' || schema_name || '.' || table_name = $1",
        [key, `capture suspended: ${problem.reason}`],
      );
      await this.audit(c, actor, 'table.capture_suspended', `table:${key}`, problem);
      return true;
    });
  }

  /** The source's tables whose capture is suspended, with their problems. */
  async suspendedCaptures(source: string): Promise<(CaptureSuspension & { table: string })[]> {
    const { rows } = await this.pool.query<{ subject: string; suspended: CaptureSuspension }>(
      "SELECT subject, details->'suspended' AS suspended FROM checkpoints WHERE pipeline = 'capture-table' AND split_part(subject, '.', 1) = $1 AND details ? 'suspended' ORDER BY subject",
      [source],
    );
    return rows.map((r) => ({ table: r.subject, ...r.suspended }));
  }

  /**
   * Lets capture take a suspended table again, once a person fixed its problem. Changes it missed
   * are not in the raw zone, so the table is loaded again: a table never loaded gets its full load;
   * one loaded before gets a reload, written after its last change. Returns null when the table's
   * capture is not suspended.
   */
  async resumeTableCapture(key: string, actor: string): Promise<'load' | 'reload' | null> {
    return this.inTransaction(async (c) => {
      const { rows } = await c.query<{ details: Record<string, unknown> }>(
        "SELECT details FROM checkpoints WHERE pipeline = 'capture-table' AND subject = $1 FOR UPDATE",
        [key],
      );
      const details = rows[0]?.details;
      if (!details?.suspended) return null;
      const { suspended, ...rest } = details;
      const how = typeof rest.loadedAt === 'string' ? ('reload' as const) : ('load' as const);
      if (how === 'load') await c.query("DELETE FROM checkpoints WHERE pipeline = 'capture-table' AND subject = $1", [key]);
      else {
        await c.query("UPDATE checkpoints SET details = $2, updated_at = now() WHERE pipeline = 'capture-table' AND subject = $1", [
          key,
          JSON.stringify({ ...rest, reload: true }),
        ]);
      }
      await c.query("UPDATE tables SET paused_reason = NULL, updated_at = now() WHERE source_name || '.' || schema_name || '.' || table_name = $1", [key]);
      await this.audit(c, actor, 'table.capture_resumed', `table:${key}`, { was: suspended, then: how });
      return how;
    });
  }

  /** What the control plane holds, for the platform check. */
  /** The table's batch that was planned and not yet committed, if any: a run resumes it. */
  async openLakeBatch(tableId: number): Promise<LakeBatchPlan | null> {
    const { rows } = await this.pool.query<{ batch_id: string; object_key: string | null; size_bytes: string | null }>(
      `SELECT b.batch_id, f.object_key, f.size_bytes FROM lake_batches b LEFT JOIN lake_files f USING (batch_id)
       WHERE b.table_id = $1 AND b.status = 'planned' ORDER BY f.object_key`,
      [tableId],
    );
    if (!rows[0]) return null;
    return { batchId: rows[0].batch_id, tableId, files: rows.filter((r) => r.object_key).map((r) => ({ key: r.object_key!, size: Number(r.size_bytes) })) };
  }

  async getLakeBatch(batchId: string): Promise<(LakeBatchPlan & { status: string }) | null> {
    const { rows } = await this.pool.query<{ table_id: string; status: string; object_key: string | null; size_bytes: string | null }>(
      `SELECT b.table_id, b.status, f.object_key, f.size_bytes FROM lake_batches b LEFT JOIN lake_files f USING (batch_id)
       WHERE b.batch_id = $1 ORDER BY f.object_key`,
      [batchId],
    );
    if (!rows[0]) return null;
    return { batchId, tableId: Number(rows[0].table_id), status: rows[0].status, files: rows.filter((r) => r.object_key).map((r) => ({ key: r.object_key!, size: Number(r.size_bytes) })) };
  }

  async consumedLakeFiles(tableId: number): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ object_key: string }>('SELECT object_key FROM lake_files WHERE table_id = $1', [tableId]);
    return new Set(rows.map((r) => r.object_key));
  }

  /**
   * Records a batch and claims its files. Only one batch per table may be open: a second plan
   * while one is open returns the open one (two planners raced; the loser resumes the winner's).
   */
  async planLakeBatch(plan: LakeBatchPlan): Promise<LakeBatchPlan> {
    return this.inTransaction(async (c) => {
      await lockSubject(c, `lake:${plan.tableId}`);
      const open = await c.query<{ batch_id: string }>("SELECT batch_id FROM lake_batches WHERE table_id = $1 AND status = 'planned'", [plan.tableId]);
      if (open.rows[0]) return { ...plan, batchId: open.rows[0].batch_id, files: [] };
      await c.query(
        "INSERT INTO lake_batches (batch_id, table_id, status, file_count, byte_count) VALUES ($1, $2, 'planned', $3, $4)",
        [plan.batchId, plan.tableId, plan.files.length, plan.files.reduce((n, f) => n + f.size, 0)],
      );
      for (const f of plan.files) {
        await c.query('INSERT INTO lake_files (table_id, object_key, size_bytes, batch_id) VALUES ($1, $2, $3, $4)', [plan.tableId, f.key, f.size, plan.batchId]);
      }
      return plan;
    });
  }

  /** Marks a batch applied, records what it set aside as failed events, and moves the table's lake checkpoint, together. */
  async commitLakeBatch(batchId: string, figures: LakeBatchFigures, run: { runner: string; logLocation: string }, failed: FailedEventInput[], checkpoint: Checkpoint | null): Promise<boolean> {
    return this.inTransaction(async (c) => {
      const { rowCount } = await c.query(
        `UPDATE lake_batches SET status = 'committed', hudi_instant = $2, already_applied = $3, rows_read = $4, rows_upserted = $5,
           rows_deleted = $6, rows_stale = $7, rows_quarantined = $8, runner = $9, log_location = $10, updated_at = now()
         WHERE batch_id = $1 AND status = 'planned'`,
        [batchId, figures.instant, figures.alreadyApplied, figures.rowsRead, figures.rowsUpserted, figures.rowsDeleted, figures.rowsStale, figures.rowsQuarantined, run.runner, run.logLocation],
      );
      if (rowCount === 0) return false; // committed by an earlier attempt
      for (const f of failed) {
        await c.query('INSERT INTO failed_events (pipeline, table_id, subject, error_type, reason, data_ref) VALUES ($1, $2, $3, $4, $5, $6)', [
          f.pipeline,
          f.tableId,
          f.subject,
          f.errorType,
          f.reason,
          JSON.stringify(f.dataRef),
        ]);
      }
      if (checkpoint) {
        await c.query(
          `INSERT INTO checkpoints (pipeline, subject, position, details) VALUES ($1, $2, $3, $4)
           ON CONFLICT (pipeline, subject) DO UPDATE SET position = EXCLUDED.position, details = EXCLUDED.details, updated_at = now()`,
          [checkpoint.pipeline, checkpoint.subject, checkpoint.position, JSON.stringify(checkpoint.details)],
        );
      }
      return true;
    });
  }

  async lakeBatches(tableId: number): Promise<(LakeBatchFigures & { batchId: string; status: string; fileCount: number })[]> {
    const { rows } = await this.pool.query<Record<string, string | number | boolean | null>>(
      'SELECT * FROM lake_batches WHERE table_id = $1 ORDER BY created_at, batch_id',
      [tableId],
    );
    return rows.map((r) => ({
      batchId: String(r.batch_id),
      status: String(r.status),
      fileCount: Number(r.file_count),
      instant: (r.hudi_instant as string | null) ?? null,
      alreadyApplied: Boolean(r.already_applied),
      rowsRead: Number(r.rows_read ?? 0),
      rowsUpserted: Number(r.rows_upserted ?? 0),
      rowsDeleted: Number(r.rows_deleted ?? 0),
      rowsStale: Number(r.rows_stale ?? 0),
      rowsQuarantined: Number(r.rows_quarantined ?? 0),
    }));
  }

  /** Records a model's definition (create or replace), with an audit row. */
  async upsertModel(def: ModelDefinition, actor: string): Promise<RecordOutcome> {
    return this.inTransaction(async (c) => {
      const before = await c.query<{ settings: ModelDefinition }>('SELECT settings FROM models WHERE model_name = $1 FOR UPDATE', [def.name]);
      if (before.rows[0] && JSON.stringify(before.rows[0].settings) === JSON.stringify(def)) return 'unchanged' as const;
      await c.query(
        `INSERT INTO models (model_name, kind, source_tables, natural_key, tracked_columns, surrogate_key, depends_on, settings, enabled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (model_name) DO UPDATE SET kind = EXCLUDED.kind, source_tables = EXCLUDED.source_tables, natural_key = EXCLUDED.natural_key,
           tracked_columns = EXCLUDED.tracked_columns, surrogate_key = EXCLUDED.surrogate_key, depends_on = EXCLUDED.depends_on,
           settings = EXCLUDED.settings, enabled = EXCLUDED.enabled, updated_at = now()`,
        [
          def.name,
          def.kind,
          [def.source],
          def.kind === 'fact' ? def.factKey : def.naturalKey,
          def.kind === 'scd2_dimension' ? def.trackedColumns : [],
          def.kind === 'fact' ? null : def.surrogateKey,
          modelDependencies(def),
          JSON.stringify(def),
          def.enabled,
        ],
      );
      const outcome: RecordOutcome = before.rows[0] ? 'updated' : 'created';
      await this.audit(c, actor, `model.${outcome}`, `model:${def.name}`, { before: before.rows[0]?.settings ?? null, after: def });
      return outcome;
    });
  }

  async listModels(): Promise<ModelDefinition[]> {
    const { rows } = await this.pool.query<{ settings: ModelDefinition }>('SELECT settings FROM models ORDER BY model_name');
    return rows.map((r) => r.settings);
  }

  async upsertReporting(def: ReportingDefinition, actor: string): Promise<RecordOutcome> {
    return this.inTransaction(async (c) => {
      const before = await c.query<{ kind: string; sql: string; depends_on: string[]; enabled: boolean }>('SELECT kind, sql, depends_on, enabled FROM reporting_objects WHERE object_name = $1 FOR UPDATE', [def.name]);
      const prior = before.rows[0];
      if (prior && prior.kind === def.kind && prior.sql === def.sql && prior.depends_on.join(',') === def.dependsOn.join(',') && prior.enabled === def.enabled) return 'unchanged' as const;
      await c.query(
        `INSERT INTO reporting_objects (object_name, kind, sql, depends_on, enabled) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (object_name) DO UPDATE SET kind = EXCLUDED.kind, sql = EXCLUDED.sql, depends_on = EXCLUDED.depends_on, enabled = EXCLUDED.enabled, updated_at = now()`,
        [def.name, def.kind, def.sql, def.dependsOn, def.enabled],
      );
      const outcome: RecordOutcome = prior ? 'updated' : 'created';
      await this.audit(c, actor, `reporting.${outcome}`, `reporting:${def.name}`, { before: prior ?? null, after: def });
      return outcome;
    });
  }

  async listReporting(): Promise<ReportingDefinition[]> {
    const { rows } = await this.pool.query<{ object_name: string; kind: 'table' | 'materialized_view'; sql: string; depends_on: string[]; enabled: boolean }>(
      'SELECT object_name, kind, sql, depends_on, enabled FROM reporting_objects ORDER BY object_name',
    );
    return rows.map((r) => ({ name: r.object_name, kind: r.kind, sql: r.sql, dependsOn: r.depends_on, enabled: r.enabled }));
  }

  async startModelBuild(buildId: string, model: string, beginInstant: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO model_builds (build_id, model_name, status, begin_instant) VALUES ($1, $2, 'running', $3)
       ON CONFLICT (build_id) DO UPDATE SET status = 'running', error = NULL, started_at = now()`,
      [buildId, model, beginInstant],
    );
  }

  /** Marks a build committed and moves the model's checkpoint to the instant it covered, together. */
  async commitModelBuild(buildId: string, model: string, figures: { endInstant: string | null; rowsStaged: number; fullComparison: boolean }): Promise<void> {
    await this.inTransaction(async (c) => {
      await c.query(
        `UPDATE model_builds SET status = 'committed', end_instant = $2, rows_staged = $3, full_comparison = $4, finished_at = now() WHERE build_id = $1`,
        [buildId, figures.endInstant, figures.rowsStaged, figures.fullComparison],
      );
      if (figures.endInstant) {
        await c.query(
          `INSERT INTO checkpoints (pipeline, subject, position, details) VALUES ('model', $1, $2, $3)
           ON CONFLICT (pipeline, subject) DO UPDATE SET position = EXCLUDED.position, details = EXCLUDED.details, updated_at = now()`,
          [model, figures.endInstant, JSON.stringify({ buildId })],
        );
      }
    });
  }

  /**
   * Of `models`, those with no committed build started after the table's newest committed lake batch:
   * a build that started later has pulled everything that batch wrote (its change log included).
   */
  async modelsBehindLake(tableId: number, models: string[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ model: string }>(
      `SELECT m.model FROM unnest($2::text[]) AS m(model)
       CROSS JOIN (SELECT max(updated_at) AS at FROM lake_batches WHERE table_id = $1 AND status = 'committed') lake
       WHERE lake.at IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM model_builds b WHERE b.model_name = m.model AND b.status = 'committed' AND b.started_at >= lake.at)
       ORDER BY 1`,
      [tableId, models],
    );
    return rows.map((r) => r.model);
  }

  async failModelBuild(buildId: string, error: string): Promise<void> {
    await this.pool.query(`UPDATE model_builds SET status = 'failed', error = $2, finished_at = now() WHERE build_id = $1`, [buildId, error.slice(0, 4000)]);
  }

  /** The ledger the Redshift Data API adapter keeps statement ids in. */
  statementLedger(): { get(key: string): Promise<string | null>; put(key: string, statementId: string): Promise<void> } {
    return {
      get: async (key) => (await this.pool.query<{ statement_id: string }>('SELECT statement_id FROM warehouse_statements WHERE work_key = $1', [key])).rows[0]?.statement_id ?? null,
      put: async (key, statementId) => {
        await this.pool.query(
          `INSERT INTO warehouse_statements (work_key, statement_id) VALUES ($1, $2) ON CONFLICT (work_key) DO UPDATE SET statement_id = EXCLUDED.statement_id, created_at = now()`,
          [key, statementId],
        );
      },
    };
  }

  async summary(): Promise<{ schemaVersion: number; sources: number; tables: number }> {
    const { rows } = await this.pool.query<{ version: number; sources: string; tables: string }>(
      `SELECT (SELECT max(version) FROM schema_migrations) AS version,
              (SELECT count(*) FROM sources) AS sources, (SELECT count(*) FROM tables) AS tables`,
    );
    const r = rows[0]!;
    return { schemaVersion: r.version, sources: Number(r.sources), tables: Number(r.tables) };
  }

  async listTables(): Promise<TableRecord[]> {
    const { rows } = await this.pool.query<TableRow>('SELECT * FROM tables ORDER BY source_name, schema_name, table_name');
    return rows.map(toTableRecord);
  }

  /** Finds a table by `source.schema.table`. */
  async getTable(source: string, schema: string, table: string): Promise<TableRecord | null> {
    const { rows } = await this.pool.query<TableRow>(
      'SELECT * FROM tables WHERE source_name = $1 AND schema_name = $2 AND table_name = $3',
      [source, schema, table],
    );
    return rows[0] ? toTableRecord(rows[0]) : null;
  }

  async auditTrail(subject: string): Promise<{ at: string; actor: string; action: string; details: unknown }[]> {
    const { rows } = await this.pool.query<{ at: Date; actor: string; action: string; details: unknown }>(
      'SELECT at, actor, action, details FROM audit_log WHERE subject = $1 ORDER BY audit_id',
      [subject],
    );
    return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
  }

  private async audit(c: pg.PoolClient, actor: string, action: string, subject: string, details: unknown): Promise<void> {
    await c.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)', [
      actor,
      action,
      subject,
      JSON.stringify(details),
    ]);
  }

  // Observability (issue 7): what the platform metrics read at scrape time, and the alert audit trail.

  /**
   * The figures behind the platform's Prometheus metrics, read in one snapshot: per table its
   * settings, what the lake consumed and applied, and how far behind it is; failed events by table,
   * status and type; archives by table and status. Kept in the control plane, so they stay right
   * across worker restarts and no pipeline code keeps counters.
   */
  async platformMetrics(): Promise<PlatformMetricRows> {
    return this.inTransaction(async (c) => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // Raw-file names carry UTC commit times; read them as UTC whatever the server's zone.
      await c.query("SET LOCAL TimeZone = 'UTC'");
      // A table's lag is measured to the newest raw change a committed lake batch consumed: the
      // commit time in the name of the newest CDC file (the first change that file holds, so it reads
      // up to one capture window high), or, when only the full load was consumed, the time the load
      // was taken (local capture's checkpoint; DMS records none, so there is no figure until the first
      // CDC file). Like the freshness check, it grows while the source is quiet.
      const tables = await c.query<{
        table_key: string;
        enabled: boolean;
        paused: boolean;
        freshness_sla_minutes: number;
        files: string | null;
        bytes: string | null;
        upserted: string | null;
        deleted: string | null;
        stale: string | null;
        quarantined: string | null;
        change_at: Date | null;
        lag_seconds: string | null;
      }>(
        // Per-table figures come from lake_batches' own counts; the newest consumed CDC file is found
        // by walking lake_files' primary key (table_id, object_key) backwards, so a scrape reads a few
        // index entries per table rather than every file the lake ever consumed.
        `WITH applied AS (
           SELECT table_id, sum(file_count) AS files, sum(byte_count) AS bytes, sum(rows_upserted) AS upserted,
                  sum(rows_deleted) AS deleted, sum(rows_stale) AS stale, sum(rows_quarantined) AS quarantined
           FROM lake_batches WHERE status = 'committed'
           GROUP BY table_id
         ), newest AS (
           SELECT t.table_id,
                  CASE
                    WHEN cdc.object_key IS NOT NULL
                      THEN to_timestamp(substring(cdc.object_key FROM '/([0-9]{8}-[0-9]{6})[0-9]*(?:-[^/]*)?[.]parquet$'), 'YYYYMMDD-HH24MISS')
                    WHEN cp.details->>'loadedAt' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}'
                         AND EXISTS (SELECT 1 FROM lake_files f JOIN lake_batches b USING (batch_id)
                                     WHERE f.table_id = t.table_id AND b.status = 'committed' AND f.object_key ~ '(^|/)LOAD[0-9A-F]{8}[.]parquet$')
                      THEN (cp.details->>'loadedAt')::timestamptz
                  END AS change_at
           FROM tables t
           LEFT JOIN LATERAL (
             SELECT f.object_key FROM lake_files f JOIN lake_batches b USING (batch_id)
             WHERE f.table_id = t.table_id AND b.status = 'committed' AND f.object_key ~ '/[0-9]{8}-[0-9]{6,12}(-[^/]*)?[.]parquet$'
             ORDER BY f.object_key DESC LIMIT 1
           ) cdc ON true
           LEFT JOIN checkpoints cp ON cp.pipeline = 'capture-table' AND cp.subject = t.source_name || '.' || t.schema_name || '.' || t.table_name
         )
         SELECT t.source_name || '.' || t.schema_name || '.' || t.table_name AS table_key, t.enabled, t.paused_reason IS NOT NULL AS paused,
                t.freshness_sla_minutes, a.files, a.bytes, a.upserted, a.deleted, a.stale, a.quarantined,
                n.change_at,
                -- greatest() skips NULLs: no consumed change must stay NULL, not read 0.
                CASE WHEN n.change_at IS NOT NULL THEN greatest(0, extract(epoch FROM now() - n.change_at)) END AS lag_seconds
         FROM tables t
         LEFT JOIN applied a USING (table_id)
         LEFT JOIN newest n USING (table_id)
         ORDER BY table_key`,
      );
      const failed = await c.query<{ table_key: string | null; status: string; error_type: string; events: string }>(
        `SELECT t.source_name || '.' || t.schema_name || '.' || t.table_name AS table_key, f.status, f.error_type, count(*) AS events
         FROM failed_events f LEFT JOIN tables t USING (table_id)
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      );
      const archives = await c.query<{ table_key: string; status: string; archives: string; files: string; original_bytes: string; zipped_bytes: string }>(
        `SELECT t.source_name || '.' || t.schema_name || '.' || t.table_name AS table_key, a.status, count(*) AS archives,
                sum(a.file_count) AS files, sum(a.original_bytes) AS original_bytes, coalesce(sum(a.zipped_bytes), 0) AS zipped_bytes
         FROM archives a JOIN tables t USING (table_id)
         GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      return {
        tables: tables.rows.map((r) => ({
          table: r.table_key,
          enabled: r.enabled,
          paused: r.paused,
          freshnessSlaMinutes: r.freshness_sla_minutes,
          lakeFiles: Number(r.files ?? 0),
          lakeBytes: Number(r.bytes ?? 0),
          lakeRows: { upserted: Number(r.upserted ?? 0), deleted: Number(r.deleted ?? 0), stale: Number(r.stale ?? 0), quarantined: Number(r.quarantined ?? 0) },
          newestChangeAt: r.change_at ? r.change_at.toISOString() : null,
          lagSeconds: r.lag_seconds === null ? null : Number(r.lag_seconds),
        })),
        failedEvents: failed.rows.map((r) => ({ table: r.table_key, status: r.status, errorType: r.error_type, events: Number(r.events) })),
        archives: archives.rows.map((r) => ({
          table: r.table_key,
          status: r.status,
          archives: Number(r.archives),
          files: Number(r.files),
          originalBytes: Number(r.original_bytes),
          zippedBytes: Number(r.zipped_bytes),
        })),
      };
    });
  }

  /** Records an alert (and what became of it) in the audit log, under the table it is about or `alert:<kind>`. */
  async recordAlert(subject: string, details: Record<string, unknown>, actor = 'alerts'): Promise<void> {
    await this.pool.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)', [actor, 'alert', subject, JSON.stringify(details)]);
  }
}

/** What ControlPlane.platformMetrics reads: the platform metrics' figures at one moment. */
export interface PlatformMetricRows {
  tables: PlatformTableFigures[];
  /** Failed events by table (null: an event about no one table), status and error type. */
  failedEvents: { table: string | null; status: string; errorType: string; events: number }[];
  /** Archives by table and status, with their files and sizes (zipped: 0 until uploaded). */
  archives: { table: string; status: string; archives: number; files: number; originalBytes: number; zippedBytes: number }[];
}

export interface PlatformTableFigures {
  /** source.schema.table */
  table: string;
  enabled: boolean;
  /** The table's pipeline is paused (tables.paused_reason is set, e.g. by schema drift). */
  paused: boolean;
  freshnessSlaMinutes: number;
  /** Raw files consumed by committed lake batches, and their bytes. */
  lakeFiles: number;
  lakeBytes: number;
  /** Rows the committed lake batches upserted, deleted, set aside as stale, or quarantined. */
  lakeRows: { upserted: number; deleted: number; stale: number; quarantined: number };
  /** The commit time of the newest raw change the lake consumed (see platformMetrics); null when none. */
  newestChangeAt: string | null;
  /** Seconds from newestChangeAt to the database's now. */
  lagSeconds: number | null;
}

async function lockSubject(c: pg.PoolClient, subject: string): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [subject]);
}

function sameSettings(prior: TableRecord, def: TableDefinition, primaryKey: string[], columns: LakeColumn[]): boolean {
  return (
    prior.primaryKey.join(',') === primaryKey.join(',') &&
    prior.precombineField === def.precombineField &&
    prior.partitionField === def.partitionField &&
    prior.hudiTableType === def.hudiTableType &&
    prior.cleanerCommitsRetained === def.cleanerCommitsRetained &&
    prior.hudiIndexType === def.hudiIndexType &&
    prior.compactionDeltaCommits === def.compactionDeltaCommits &&
    prior.archiveLevel === def.archiveLevel &&
    prior.archiveAfterDays === def.archiveAfterDays &&
    prior.freshnessSlaMinutes === def.freshnessSlaMinutes &&
    prior.schedule === def.schedule &&
    prior.enabled === def.enabled &&
    sameColumns(prior.columns, columns)
  );
}

// jsonb does not keep key order, so columns are compared field by field.
function sameColumns(a: LakeColumn[], b: LakeColumn[]): boolean {
  return (
    a.length === b.length &&
    a.every((c, i) => {
      const d = b[i]!;
      return c.name === d.name && c.lakeName === d.lakeName && c.sourceType === d.sourceType && c.lakeType === d.lakeType && c.nullable === d.nullable;
    })
  );
}
