// The archive's records in the control plane (tables `archives`, `archive_entries`, `archive_runs`:
// migrations 0001 and 0006): the seed's archival config table, with each zip's entry manifest. Each
// state change is one statement or one transaction, and each is conditional on the state before it,
// so a retried or raced activity cannot move an archive backwards (a verified archive is never
// re-planned over, an entry is marked deleted only from `archived`).
import type pg from 'pg';
import type { BuiltEntry } from './build';
import type { ArchiveLevel } from './partition';

export type ArchiveStatus = 'listed' | 'uploading' | 'uploaded' | 'verified' | 'originals_deleted' | 'failed';
export type EntryState = 'listed' | 'zipped' | 'archived' | 'deleted' | 'skipped';

/** The archive is verified: its claimed entries are safe in the zip. */
export const VERIFIED_STATUSES: readonly ArchiveStatus[] = ['verified', 'originals_deleted'];
/** An entry whose content the zip holds for good. */
export const CLAIMED_STATES: readonly EntryState[] = ['archived', 'deleted'];

export interface ArchiveRecord {
  archiveId: number;
  tableId: number;
  schemaName: string;
  tableName: string;
  level: ArchiveLevel;
  partition: string;
  generation: number;
  sourceBucket: string | null;
  sourcePrefix: string;
  fileCount: number;
  originalBytes: number;
  zippedBytes: number | null;
  zipBucket: string;
  zipKey: string;
  zipChecksum: string | null;
  zipSha256: string | null;
  zipEtag: string | null;
  storageClass: string;
  status: ArchiveStatus;
  uploadId: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  verifiedAt: string | null;
  originalsDeletedAt: string | null;
}

export interface ArchiveEntryRecord {
  key: string;
  size: number;
  crc32: number | null;
  etag: string | null;
  lastModified: Date | null;
  fileDate: string | null;
  state: EntryState;
  skipReason: string | null;
  method: number | null;
  compressedSize: number | null;
  offset: number | null;
}

export interface PlannedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  fileDate: string;
}

interface ArchiveRow {
  archive_id: string;
  table_id: string;
  schema_name: string;
  table_name: string;
  archive_level: ArchiveLevel;
  partition_value: string;
  generation: number;
  source_bucket: string | null;
  source_prefix: string;
  file_count: number;
  original_bytes: string;
  zipped_bytes: string | null;
  zip_bucket: string;
  zip_key: string;
  zip_checksum: string | null;
  zip_sha256: string | null;
  zip_etag: string | null;
  storage_class: string;
  status: ArchiveStatus;
  upload_id: string | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  verified_at: Date | null;
  originals_deleted_at: Date | null;
}

interface EntryRow {
  object_key: string;
  size_bytes: string;
  crc32: string | null;
  etag: string | null;
  last_modified: Date | null;
  file_date: string | null;
  state: EntryState;
  skip_reason: string | null;
  compression_method: number | null;
  compressed_size: string | null;
  local_header_offset: string | null;
}

const toArchive = (r: ArchiveRow): ArchiveRecord => ({
  archiveId: Number(r.archive_id),
  tableId: Number(r.table_id),
  schemaName: r.schema_name,
  tableName: r.table_name,
  level: r.archive_level,
  partition: r.partition_value,
  generation: r.generation,
  sourceBucket: r.source_bucket,
  sourcePrefix: r.source_prefix,
  fileCount: r.file_count,
  originalBytes: Number(r.original_bytes),
  zippedBytes: r.zipped_bytes === null ? null : Number(r.zipped_bytes),
  zipBucket: r.zip_bucket,
  zipKey: r.zip_key,
  zipChecksum: r.zip_checksum,
  zipSha256: r.zip_sha256,
  zipEtag: r.zip_etag,
  storageClass: r.storage_class,
  status: r.status,
  uploadId: r.upload_id,
  error: r.error,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  verifiedAt: r.verified_at?.toISOString() ?? null,
  originalsDeletedAt: r.originals_deleted_at?.toISOString() ?? null,
});

const num = (v: string | null) => (v === null ? null : Number(v));
const toEntry = (r: EntryRow): ArchiveEntryRecord => ({
  key: r.object_key,
  size: Number(r.size_bytes),
  crc32: num(r.crc32),
  etag: r.etag,
  lastModified: r.last_modified,
  fileDate: r.file_date,
  state: r.state,
  skipReason: r.skip_reason,
  method: r.compression_method,
  compressedSize: num(r.compressed_size),
  offset: num(r.local_header_offset),
});

// file_date comes back as text, not a Date shifted by the client's time zone.
function entryColumns(alias = ''): string {
  const a = alias ? `${alias}.` : '';
  return `${a}object_key, ${a}size_bytes, ${a}crc32, ${a}etag, ${a}last_modified, to_char(${a}file_date, 'YYYY-MM-DD') AS file_date, ${a}state,
    ${a}skip_reason, ${a}compression_method, ${a}compressed_size, ${a}local_header_offset`;
}
const ENTRY_COLUMNS = entryColumns();
// Keys compare as S3 lists them (UTF-8 bytes), not by the database's collation.
const KEY_ORDER = 'object_key COLLATE "C"';
const CHUNK = 5000;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class ArchiveStore {
  constructor(private readonly pool: pg.Pool) {}

  private async tx<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await work(c);
      await c.query('COMMIT');
      c.release();
      return out;
    } catch (err) {
      const broken = await c.query('ROLLBACK').then(
        () => undefined,
        (e: Error) => e,
      );
      c.release(broken);
      throw err;
    }
  }

  async get(archiveId: number): Promise<ArchiveRecord | null> {
    const { rows } = await this.pool.query<ArchiveRow>('SELECT * FROM archives WHERE archive_id = $1', [archiveId]);
    return rows[0] ? toArchive(rows[0]) : null;
  }

  /** The partition's newest generation. */
  async latest(tableId: number, level: ArchiveLevel, partition: string): Promise<ArchiveRecord | null> {
    const { rows } = await this.pool.query<ArchiveRow>(
      'SELECT * FROM archives WHERE table_id = $1 AND archive_level = $2 AND partition_value = $3 ORDER BY generation DESC LIMIT 1',
      [tableId, level, partition],
    );
    return rows[0] ? toArchive(rows[0]) : null;
  }

  /** Archives of a table not yet finished (anything short of originals_deleted). */
  async unfinished(tableId: number): Promise<ArchiveRecord[]> {
    const { rows } = await this.pool.query<ArchiveRow>("SELECT * FROM archives WHERE table_id = $1 AND status <> 'originals_deleted' ORDER BY partition_value, generation", [tableId]);
    return rows.map(toArchive);
  }

  async forTable(tableId: number): Promise<ArchiveRecord[]> {
    const { rows } = await this.pool.query<ArchiveRow>('SELECT * FROM archives WHERE table_id = $1 ORDER BY archive_level, partition_value, generation', [tableId]);
    return rows.map(toArchive);
  }

  /**
   * Records a partition's listing as the plan of one generation: a new row, or the same unverified
   * row reset (its entries replaced, its zip to be rewritten at the same key). Refuses to plan over
   * a verified archive: the caller re-reads the state and resumes it instead.
   */
  async plan(p: {
    tableId: number;
    schema: string;
    table: string;
    level: ArchiveLevel;
    partition: string;
    generation: number;
    sourceBucket: string;
    sourcePrefix: string;
    zipBucket: string;
    zipKey: string;
    objects: readonly PlannedObject[];
  }): Promise<number> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`archive:${p.tableId}:${p.level}:${p.partition}`]);
      const existing = await c.query<{ archive_id: string; status: ArchiveStatus }>(
        'SELECT archive_id, status FROM archives WHERE table_id = $1 AND archive_level = $2 AND partition_value = $3 AND generation = $4 FOR UPDATE',
        [p.tableId, p.level, p.partition, p.generation],
      );
      const bytes = p.objects.reduce((n, o) => n + o.size, 0);
      let archiveId: number;
      const prior = existing.rows[0];
      if (prior) {
        if (VERIFIED_STATUSES.includes(prior.status)) throw new Error(`archive ${prior.archive_id} (${p.partition}, generation ${p.generation}) is already ${prior.status}`);
        archiveId = Number(prior.archive_id);
        await c.query('DELETE FROM archive_entries WHERE archive_id = $1', [archiveId]);
        await c.query(
          `UPDATE archives SET status = 'listed', file_count = $2, original_bytes = $3, zipped_bytes = NULL, zip_checksum = NULL, zip_sha256 = NULL,
             zip_etag = NULL, upload_id = NULL, error = NULL, compression_status = 'pending', source_bucket = $4, source_prefix = $5,
             zip_bucket = $6, zip_key = $7, updated_at = now()
           WHERE archive_id = $1`,
          [archiveId, p.objects.length, bytes, p.sourceBucket, p.sourcePrefix, p.zipBucket, p.zipKey],
        );
      } else {
        const inserted = await c.query<{ archive_id: string }>(
          `INSERT INTO archives (table_id, schema_name, table_name, archive_level, partition_value, generation, source_bucket, source_prefix,
             file_count, original_bytes, zip_bucket, zip_key, storage_class, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'STANDARD_IA', 'listed') RETURNING archive_id`,
          [p.tableId, p.schema, p.table, p.level, p.partition, p.generation, p.sourceBucket, p.sourcePrefix, p.objects.length, bytes, p.zipBucket, p.zipKey],
        );
        archiveId = Number(inserted.rows[0]!.archive_id);
      }
      for (const part of chunks(p.objects)) {
        await c.query(
          `INSERT INTO archive_entries (archive_id, object_key, size_bytes, etag, last_modified, file_date, state)
           SELECT $1, k, s, e, m, d, 'listed' FROM unnest($2::text[], $3::bigint[], $4::text[], $5::timestamptz[], $6::date[]) AS u(k, s, e, m, d)`,
          [archiveId, part.map((o) => o.key), part.map((o) => o.size), part.map((o) => o.etag), part.map((o) => o.lastModified), part.map((o) => o.fileDate)],
        );
      }
      return archiveId;
    });
  }

  /** Removes an unverified archive that turned out to claim nothing. */
  async discard(archiveId: number): Promise<boolean> {
    const { rowCount } = await this.pool.query("DELETE FROM archives WHERE archive_id = $1 AND status NOT IN ('verified', 'originals_deleted')", [archiveId]);
    return (rowCount ?? 0) > 0;
  }

  async markUploading(archiveId: number, uploadId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      "UPDATE archives SET status = 'uploading', upload_id = $2, error = NULL, updated_at = now() WHERE archive_id = $1 AND status IN ('listed', 'uploading', 'uploaded', 'failed')",
      [archiveId, uploadId],
    );
    return (rowCount ?? 0) > 0;
  }

  async entries(archiveId: number, states?: readonly EntryState[]): Promise<ArchiveEntryRecord[]> {
    const { rows } = await this.pool.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE archive_id = $1 ${states ? 'AND state = ANY($2)' : ''} ORDER BY ${KEY_ORDER}`,
      states ? [archiveId, states] : [archiveId],
    );
    return rows.map(toEntry);
  }

  /** Records what the build put in the zip (and what it left out), and the zip itself: status uploaded. */
  async recordBuild(archiveId: number, zip: { etag: string; bytes: number; crc32: string; sha256: string }, built: readonly BuiltEntry[]): Promise<boolean> {
    return this.tx(async (c) => {
      const row = await c.query<{ status: ArchiveStatus }>('SELECT status FROM archives WHERE archive_id = $1 FOR UPDATE', [archiveId]);
      if (row.rows[0]?.status !== 'uploading') return false;
      const zipped = built.filter((b): b is Extract<BuiltEntry, { state: 'zipped' }> => b.state === 'zipped');
      for (const part of chunks(zipped)) {
        await c.query(
          `UPDATE archive_entries e SET state = 'zipped', crc32 = u.crc, compression_method = u.m, compressed_size = u.cs, local_header_offset = u.o, skip_reason = NULL
           FROM unnest($2::text[], $3::bigint[], $4::smallint[], $5::bigint[], $6::bigint[]) AS u(k, crc, m, cs, o)
           WHERE e.archive_id = $1 AND e.object_key = u.k`,
          [archiveId, part.map((b) => b.key), part.map((b) => b.crc32), part.map((b) => b.method), part.map((b) => b.compressedSize), part.map((b) => b.offset)],
        );
      }
      const skipped = built.filter((b): b is Extract<BuiltEntry, { state: 'skipped' }> => b.state === 'skipped');
      for (const part of chunks(skipped)) {
        await c.query(
          `UPDATE archive_entries e SET state = 'skipped', skip_reason = u.r FROM unnest($2::text[], $3::text[]) AS u(k, r)
           WHERE e.archive_id = $1 AND e.object_key = u.k`,
          [archiveId, part.map((b) => b.key), part.map((b) => b.reason)],
        );
      }
      await c.query(
        `UPDATE archives SET status = 'uploaded', compression_status = 'compressed', zipped_bytes = $2, zip_checksum = $3, zip_sha256 = $4, zip_etag = $5,
           upload_id = NULL, file_count = $6, original_bytes = $7, updated_at = now()
         WHERE archive_id = $1`,
        [archiveId, zip.bytes, zip.crc32, zip.sha256, zip.etag, zipped.length, zipped.reduce((n, b) => n + b.size, 0)],
      );
      return true;
    });
  }

  /** The zip matched its manifest: its entries are claimed, and their originals may go. */
  async markVerified(archiveId: number): Promise<boolean> {
    return this.tx(async (c) => {
      const { rowCount } = await c.query(
        "UPDATE archives SET status = 'verified', compression_status = 'verified', verified_at = now(), error = NULL, updated_at = now() WHERE archive_id = $1 AND status = 'uploaded'",
        [archiveId],
      );
      if (!rowCount) return false;
      await c.query("UPDATE archive_entries SET state = 'archived' WHERE archive_id = $1 AND state = 'zipped'", [archiveId]);
      return true;
    });
  }

  async markFailed(archiveId: number, error: string): Promise<void> {
    await this.pool.query("UPDATE archives SET status = 'failed', error = $2, updated_at = now() WHERE archive_id = $1 AND status IN ('listed', 'uploading', 'uploaded')", [archiveId, error]);
  }

  /** The next entries whose originals are still to be deleted, in key order. */
  async toDelete(archiveId: number, limit: number): Promise<ArchiveEntryRecord[]> {
    const { rows } = await this.pool.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE archive_id = $1 AND state = 'archived' ORDER BY ${KEY_ORDER} LIMIT $2`, [archiveId, limit]);
    return rows.map(toEntry);
  }

  /** Original gone (deleted now, or found gone): the zip is the copy. */
  async markDeleted(archiveId: number, keys: readonly string[]): Promise<void> {
    for (const part of chunks(keys)) {
      await this.pool.query("UPDATE archive_entries SET state = 'deleted', deleted_at = now() WHERE archive_id = $1 AND object_key = ANY($2) AND state = 'archived'", [archiveId, part]);
    }
  }

  /** The original changed after it was zipped: it stays, and the archive no longer claims it. */
  async markSuperseded(archiveId: number, keys: readonly string[], reason: string): Promise<void> {
    for (const part of chunks(keys)) {
      await this.pool.query("UPDATE archive_entries SET state = 'skipped', skip_reason = $3 WHERE archive_id = $1 AND object_key = ANY($2) AND state = 'archived'", [archiveId, part, reason]);
    }
  }

  /** Closes the archive when no original is left to delete; returns how many are left, and how many it claims. */
  async finishDeletion(archiveId: number): Promise<{ remaining: number; claimed: number }> {
    return this.tx(async (c) => {
      const left = await c.query<{ n: string }>("SELECT count(*) AS n FROM archive_entries WHERE archive_id = $1 AND state = 'archived'", [archiveId]);
      const remaining = Number(left.rows[0]!.n);
      // The archive's figures are what it claims: entries superseded at deletion no longer count.
      await c.query(
        `UPDATE archives a SET file_count = s.n, original_bytes = s.b, updated_at = now(),
           status = CASE WHEN $2 = 0 THEN 'originals_deleted' ELSE a.status END,
           originals_deleted_at = CASE WHEN $2 = 0 THEN now() ELSE a.originals_deleted_at END
         FROM (SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS b FROM archive_entries WHERE archive_id = $1 AND state IN ('archived', 'deleted')) s
         WHERE a.archive_id = $1 AND a.status = 'verified'`,
        [archiveId, remaining],
      );
      const claimed = await c.query<{ n: string }>("SELECT count(*) AS n FROM archive_entries WHERE archive_id = $1 AND state IN ('archived', 'deleted')", [archiveId]);
      return { remaining, claimed: Number(claimed.rows[0]!.n) };
    });
  }

  /** Of `keys`, those claimed by a verified archive of the table, with what the zipped file was. */
  async claimedKeys(tableId: number, keys: readonly string[]): Promise<Map<string, { etag: string | null; size: number; crc32: number | null }>> {
    const out = new Map<string, { etag: string | null; size: number; crc32: number | null }>();
    for (const part of chunks(keys)) {
      const { rows } = await this.pool.query<{ object_key: string; etag: string | null; size_bytes: string; crc32: string | null }>(
        `SELECT e.object_key, e.etag, e.size_bytes, e.crc32 FROM archive_entries e JOIN archives a USING (archive_id)
         WHERE a.table_id = $1 AND a.status IN ('verified', 'originals_deleted') AND e.state IN ('archived', 'deleted') AND e.object_key = ANY($2)
         ORDER BY a.generation`,
        [tableId, part],
      );
      // The newest generation's version wins.
      for (const r of rows) out.set(r.object_key, { etag: r.etag, size: Number(r.size_bytes), crc32: num(r.crc32) });
    }
    return out;
  }

  /** Of `keys`, those the lake has consumed: in a committed lake batch (past the lake's checkpoint). */
  async consumedKeys(tableId: number, keys: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const part of chunks(keys)) {
      const { rows } = await this.pool.query<{ object_key: string }>(
        `SELECT f.object_key FROM lake_files f JOIN lake_batches b USING (batch_id)
         WHERE f.table_id = $1 AND b.status = 'committed' AND f.object_key = ANY($2)`,
        [tableId, part],
      );
      for (const r of rows) out.add(r.object_key);
    }
    return out;
  }

  /** Verified archives of a table (any generation) holding claimed files dated in [start, end]. */
  async archivesForRange(tableId: number, startDate: string, endDate: string): Promise<(ArchiveRecord & { filesInRange: number; bytesInRange: number })[]> {
    const { rows } = await this.pool.query<ArchiveRow & { n: string; b: string }>(
      `SELECT a.*, count(*) AS n, sum(e.size_bytes) AS b FROM archives a JOIN archive_entries e USING (archive_id)
       WHERE a.table_id = $1 AND a.status IN ('verified', 'originals_deleted') AND e.state IN ('archived', 'deleted')
         AND e.file_date BETWEEN $2::date AND $3::date
       GROUP BY a.archive_id ORDER BY a.archive_level, a.partition_value, a.generation`,
      [tableId, startDate, endDate],
    );
    return rows.map((r) => ({ ...toArchive(r), filesInRange: Number(r.n), bytesInRange: Number(r.b) }));
  }

  /**
   * The entries of one archive to recover for [start, end]: claimed, dated in the range, and not
   * claimed again by a later generation of the table (which holds a newer version of the file).
   */
  async entriesForRecovery(archiveId: number, startDate: string, endDate: string): Promise<ArchiveEntryRecord[]> {
    const { rows } = await this.pool.query<EntryRow>(
      `SELECT ${entryColumns('e')} FROM archive_entries e JOIN archives a USING (archive_id)
       WHERE e.archive_id = $1 AND e.state IN ('archived', 'deleted') AND e.file_date BETWEEN $2::date AND $3::date
         AND NOT EXISTS (
           SELECT 1 FROM archive_entries e2 JOIN archives a2 ON a2.archive_id = e2.archive_id
           WHERE a2.table_id = a.table_id AND a2.archive_id <> a.archive_id AND a2.generation > a.generation
             AND a2.status IN ('verified', 'originals_deleted') AND e2.object_key = e.object_key AND e2.state IN ('archived', 'deleted'))
       ORDER BY e.${KEY_ORDER}`,
      [archiveId, startDate, endDate],
    );
    return rows.map(toEntry);
  }

  async recordRun(run: {
    runId: string;
    dryRun: boolean;
    asOf: string;
    partitions: number;
    archived: number;
    files: number;
    originalBytes: number;
    zippedBytes: number;
    estimate: unknown;
    measuredBefore: unknown;
    measuredAfter: unknown;
    monthlyCostBefore: number | null;
    monthlyCostAfter: number | null;
    outcomes: unknown;
  }): Promise<void> {
    await this.pool.query(
      `INSERT INTO archive_runs (run_id, dry_run, as_of, partitions, archived, files, original_bytes, zipped_bytes, estimate, measured_before, measured_after,
         monthly_cost_before, monthly_cost_after, outcomes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (run_id) DO UPDATE SET dry_run = EXCLUDED.dry_run, partitions = EXCLUDED.partitions, archived = EXCLUDED.archived, files = EXCLUDED.files,
         original_bytes = EXCLUDED.original_bytes, zipped_bytes = EXCLUDED.zipped_bytes, estimate = EXCLUDED.estimate, measured_before = EXCLUDED.measured_before,
         measured_after = EXCLUDED.measured_after, monthly_cost_before = EXCLUDED.monthly_cost_before, monthly_cost_after = EXCLUDED.monthly_cost_after,
         outcomes = EXCLUDED.outcomes, updated_at = now()`,
      [run.runId, run.dryRun, run.asOf, run.partitions, run.archived, run.files, run.originalBytes, run.zippedBytes, JSON.stringify(run.estimate), JSON.stringify(run.measuredBefore), JSON.stringify(run.measuredAfter), run.monthlyCostBefore, run.monthlyCostAfter, JSON.stringify(run.outcomes)],
    );
  }
}
