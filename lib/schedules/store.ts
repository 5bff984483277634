// What the control plane says should run on a schedule: every enabled table's pipeline at its
// schedule_cron, and the platform's own pipelines (archival, reprocessing). Pausing is written here
// first, with its note, so the next sync cannot undo a person's pause.
import type pg from 'pg';

export interface TableScheduleRow {
  table: string;
  source: string;
  cron: string;
  pausedNote: string | null;
}

export interface PlatformScheduleRow {
  name: 'archive-tables' | 'reprocess-failed-events' | 'check-models';
  cron: string;
  input: Record<string, unknown>;
  pausedNote: string | null;
}

/** Which table schedules a pause or resume applies to: a source, table keys with * wildcards, or both. */
export interface TableSelector {
  source?: string;
  tables?: string[];
}

function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}

const KEY = `source_name || '.' || schema_name || '.' || table_name`;

export class ScheduleStore {
  constructor(private readonly pool: pg.Pool) {}

  /** The WHERE clause choosing a group of tables; `args` are the statement's leading parameters. */
  private selection(selector: TableSelector, args: unknown[]): { where: string; args: unknown[] } {
    if (!selector.source && !selector.tables?.length) throw new Error('name a source or at least one table (wildcards allowed): pausing every table is `--source` per source');
    const all = [...args];
    const where: string[] = [];
    if (selector.source) {
      all.push(selector.source);
      where.push(`source_name = $${all.length}`);
    }
    if (selector.tables?.length) {
      all.push(selector.tables.map(globToLike));
      where.push(`${KEY} LIKE ANY($${all.length}::text[])`);
    }
    return { where: where.join(' AND '), args: all };
  }

  async tableSchedules(): Promise<TableScheduleRow[]> {
    const { rows } = await this.pool.query<{ key: string; source_name: string; schedule_cron: string; schedule_paused_note: string | null }>(
      `SELECT ${KEY} AS key, source_name, schedule_cron, schedule_paused_note FROM tables WHERE enabled ORDER BY 1`,
    );
    return rows.map((r) => ({ table: r.key, source: r.source_name, cron: r.schedule_cron, pausedNote: r.schedule_paused_note }));
  }

  async platformSchedules(): Promise<PlatformScheduleRow[]> {
    const { rows } = await this.pool.query<{ schedule_name: PlatformScheduleRow['name']; cron: string; input: Record<string, unknown>; paused_note: string | null }>(
      'SELECT schedule_name, cron, input, paused_note FROM platform_schedules WHERE enabled ORDER BY 1',
    );
    return rows.map((r) => ({ name: r.schedule_name, cron: r.cron, input: r.input, pausedNote: r.paused_note }));
  }

  /** Sets (note) or clears (null) the pause of the selected tables' schedules; returns the tables changed. */
  async setTablesPaused(selector: TableSelector, note: string | null, actor: string): Promise<string[]> {
    const { where, args } = this.selection(selector, [note]);
    const { rows } = await this.pool.query<{ key: string }>(
      `UPDATE tables SET schedule_paused_note = $1, updated_at = now() WHERE ${where} AND schedule_paused_note IS DISTINCT FROM $1 RETURNING ${KEY} AS key`,
      args,
    );
    for (const r of rows) {
      await this.pool.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)', [actor, note === null ? 'schedule.resumed' : 'schedule.paused', `table:${r.key}`, JSON.stringify({ note })]);
    }
    return rows.map((r) => r.key).sort();
  }

  /** Changes a platform schedule's cron and/or workflow input. */
  async setPlatform(name: string, change: { cron?: string; input?: Record<string, unknown> }, actor: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE platform_schedules SET cron = COALESCE($2, cron), input = COALESCE($3, input), updated_at = now() WHERE schedule_name = $1', [
      name,
      change.cron ?? null,
      change.input ? JSON.stringify(change.input) : null,
    ]);
    if (!rowCount) return false;
    await this.pool.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)', [actor, 'schedule.changed', `schedule:${name}`, JSON.stringify(change)]);
    return true;
  }

  /** Sets the cron of the selected tables' schedules; returns the tables changed. */
  async setTablesCron(selector: TableSelector, cron: string, actor: string): Promise<string[]> {
    const { where, args } = this.selection(selector, [cron]);
    const { rows } = await this.pool.query<{ key: string }>(`UPDATE tables SET schedule_cron = $1, updated_at = now() WHERE ${where} AND schedule_cron <> $1 RETURNING ${KEY} AS key`, args);
    for (const r of rows) await this.pool.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)', [actor, 'schedule.changed', `table:${r.key}`, JSON.stringify({ cron })]);
    return rows.map((r) => r.key).sort();
  }

  async setPlatformPaused(name: string, note: string | null, actor: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE platform_schedules SET paused_note = $2, updated_at = now() WHERE schedule_name = $1', [name, note]);
    if (!rowCount) return false;
    await this.pool.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)', [actor, note === null ? 'schedule.resumed' : 'schedule.paused', `schedule:${name}`, JSON.stringify({ note })]);
    return true;
  }
}
