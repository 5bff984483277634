// The failed-event store (the seed's DynamoDB table): every table-pipeline run that failed after its
// retries, and every batch of rows the lake job set aside, is one row with its reason and a
// reference to the data. The reprocessing loop claims due events, retries them with backoff, and
// moves them to the dead letter after a cap; a person can retry or skip any of them.
import type pg from 'pg';

export type FailedEventStatus = 'pending' | 'retrying' | 'resolved' | 'dead_letter' | 'skipped';

/** The pipeline names events are filed under; the reprocessing loop retries each its own way. */
export const FailedEventPipeline = { tablePipeline: 'table-pipeline', lakeUpsert: 'lake-upsert', capture: 'capture' } as const;

export interface FailedEvent {
  eventId: number;
  pipeline: string;
  /** source.schema.table, when the event belongs to a table. */
  table: string | null;
  subject: string;
  errorType: string;
  reason: string;
  dataRef: Record<string, unknown>;
  status: FailedEventStatus;
  attempts: number;
  occurrences: number;
  nextAttemptAt: string;
  lastError: string | null;
  lastWorkflowId: string | null;
  settledBy: string | null;
  createdAt: string;
  updatedAt: string;
}

interface FailedEventRow {
  event_id: string;
  pipeline: string;
  table_key: string | null;
  subject: string;
  error_type: string;
  reason: string;
  data_ref: Record<string, unknown>;
  status: FailedEventStatus;
  attempts: number;
  occurrences: number;
  next_attempt_at: Date;
  last_error: string | null;
  last_workflow_id: string | null;
  settled_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT f.*, t.source_name || '.' || t.schema_name || '.' || t.table_name AS table_key
  FROM failed_events f LEFT JOIN tables t ON t.table_id = f.table_id`;

function toEvent(r: FailedEventRow): FailedEvent {
  return {
    eventId: Number(r.event_id),
    pipeline: r.pipeline,
    table: r.table_key,
    subject: r.subject,
    errorType: r.error_type,
    reason: r.reason,
    dataRef: r.data_ref,
    status: r.status,
    attempts: r.attempts,
    occurrences: r.occurrences,
    nextAttemptAt: r.next_attempt_at.toISOString(),
    lastError: r.last_error,
    lastWorkflowId: r.last_workflow_id,
    settledBy: r.settled_by,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export class FailedEventStore {
  constructor(private readonly pool: pg.Pool) {}

  private async byIds(ids: number[]): Promise<FailedEvent[]> {
    if (!ids.length) return [];
    const { rows } = await this.pool.query<FailedEventRow>(`${SELECT} WHERE f.event_id = ANY($1::bigint[]) ORDER BY f.event_id`, [ids]);
    return rows.map(toEvent);
  }

  /**
   * Files a table pipeline's failure, or adds an occurrence to the table's open one (pending,
   * retrying or dead-lettered): `created` says whether this is news a person should be told of.
   */
  async recordPipelineFailure(f: { table: string; errorType: string; reason: string; dataRef: Record<string, unknown>; workflowId: string; runId: string }): Promise<{ event: FailedEvent; created: boolean }> {
    const { rows } = await this.pool.query<{ event_id: string; occurrences: number }>(
      `INSERT INTO failed_events (pipeline, table_id, subject, error_type, reason, data_ref, last_error, last_workflow_id, last_run_id)
       VALUES ($1, (SELECT table_id FROM tables WHERE source_name || '.' || schema_name || '.' || table_name = $2), $2, $3, $4, $5, $4, $6, $7)
       ON CONFLICT (pipeline, subject) WHERE pipeline = 'table-pipeline' AND status IN ('pending', 'retrying', 'dead_letter')
       DO UPDATE SET occurrences = failed_events.occurrences + 1, error_type = EXCLUDED.error_type, last_error = EXCLUDED.reason,
         data_ref = EXCLUDED.data_ref, last_workflow_id = EXCLUDED.last_workflow_id, last_run_id = EXCLUDED.last_run_id, updated_at = now()
       RETURNING event_id, occurrences`,
      [FailedEventPipeline.tablePipeline, f.table, f.errorType, f.reason.slice(0, 4000), JSON.stringify(f.dataRef), f.workflowId, f.runId],
    );
    const row = rows[0]!;
    const [event] = await this.byIds([Number(row.event_id)]);
    return { event: event!, created: row.occurrences === 1 };
  }

  /**
   * Files a capture problem no retry can fix, for a table (subject source.schema.table) or a whole
   * source (subject: the source's name), unless one is open for that subject already: one event per
   * problem, however often a window meets it. Returns the open event and whether it is new.
   */
  async recordCaptureFailure(f: { subject: string; errorType: string; reason: string; dataRef: Record<string, unknown>; workflowId: string; runId: string }): Promise<{ event: FailedEvent; created: boolean }> {
    const open = async () =>
      (await this.pool.query<{ event_id: string }>(
        `SELECT event_id FROM failed_events WHERE pipeline = $1 AND subject = $2 AND status IN ('pending', 'retrying', 'dead_letter') ORDER BY event_id LIMIT 1`,
        [FailedEventPipeline.capture, f.subject],
      )).rows[0];
    const { rows } = await this.pool.query<{ event_id: string }>(
      `INSERT INTO failed_events (pipeline, table_id, subject, error_type, reason, data_ref, last_error, last_workflow_id, last_run_id)
       SELECT $1, (SELECT table_id FROM tables WHERE source_name || '.' || schema_name || '.' || table_name = $2), $2, $3, $4, $5, $4, $6, $7
       WHERE NOT EXISTS (SELECT 1 FROM failed_events WHERE pipeline = $1 AND subject = $2 AND status IN ('pending', 'retrying', 'dead_letter'))
       RETURNING event_id`,
      [FailedEventPipeline.capture, f.subject, f.errorType, f.reason.slice(0, 4000), JSON.stringify(f.dataRef), f.workflowId, f.runId],
    );
    const id = rows[0]?.event_id ?? (await open())?.event_id;
    const [event] = await this.byIds([Number(id)]);
    return { event: event!, created: rows.length > 0 };
  }

  /** The subject's capture works again (a window completed, or the table was resumed). Returns the ids resolved. */
  async resolveCaptureFailures(subject: string, by: string): Promise<number[]> {
    const { rows } = await this.pool.query<{ event_id: string }>(
      `UPDATE failed_events SET status = 'resolved', settled_by = $3, updated_at = now()
       WHERE pipeline = $1 AND subject = $2 AND status IN ('pending', 'retrying', 'dead_letter') RETURNING event_id`,
      [FailedEventPipeline.capture, subject, by],
    );
    return rows.map((r) => Number(r.event_id));
  }

  /** A table's pipeline succeeded: its open failure (if any) is resolved. Returns the ids resolved. */
  async resolvePipelineFailures(table: string, by: string): Promise<number[]> {
    const { rows } = await this.pool.query<{ event_id: string }>(
      `UPDATE failed_events SET status = 'resolved', settled_by = $3, updated_at = now()
       WHERE pipeline = $1 AND subject = $2 AND status IN ('pending', 'retrying', 'dead_letter') RETURNING event_id`,
      [FailedEventPipeline.tablePipeline, table, by],
    );
    return rows.map((r) => Number(r.event_id));
  }

  /**
   * Takes due events for one retry each: pending ones whose time has come (or the ids asked for,
   * pending or dead-lettered, whenever), and retrying ones a crashed loop abandoned an hour ago.
   * Claiming counts the attempt and sets the next one's time, so two loops never retry one event.
   */
  async claim(p: { limit: number; backoffSeconds: number; eventIds?: number[] }): Promise<FailedEvent[]> {
    const which = p.eventIds?.length
      ? `event_id = ANY($3::bigint[]) AND status IN ('pending', 'dead_letter', 'retrying')`
      : `(status = 'pending' AND next_attempt_at <= now()) OR (status = 'retrying' AND next_attempt_at <= now() - interval '1 hour')`;
    const { rows } = await this.pool.query<{ event_id: string }>(
      `UPDATE failed_events SET status = 'retrying', attempts = attempts + 1,
         next_attempt_at = now() + make_interval(secs => LEAST($2::float8 * power(2, attempts), 86400)), updated_at = now()
       WHERE event_id IN (SELECT event_id FROM failed_events WHERE ${which} ORDER BY next_attempt_at, event_id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING event_id`,
      p.eventIds?.length ? [p.limit, p.backoffSeconds, p.eventIds] : [p.limit, p.backoffSeconds],
    );
    return this.byIds(rows.map((r) => Number(r.event_id)));
  }

  /**
   * Records a retry's outcome: resolved; failed (back to pending for its next attempt, or to the dead
   * letter once attempts reach the cap); or deferred (another run of the same table is going: the
   * attempt is not counted). Returns the event as it now stands.
   */
  async settle(eventId: number, outcome: { kind: 'resolved' | 'failed' | 'deferred'; detail: string; maxAttempts: number; by: string }): Promise<FailedEvent> {
    const detail = outcome.detail.slice(0, 4000);
    const [set, args]: [string, unknown[]] =
      outcome.kind === 'resolved'
        ? [`status = 'resolved', settled_by = $2, last_error = $3`, [outcome.by, detail]]
        : outcome.kind === 'failed'
          ? [`status = CASE WHEN attempts >= $2 THEN 'dead_letter' ELSE 'pending' END, last_error = $3`, [outcome.maxAttempts, detail]]
          : [`status = 'pending', attempts = GREATEST(attempts - 1, 0), next_attempt_at = now(), last_error = $2`, [detail]];
    await this.pool.query(`UPDATE failed_events SET ${set}, updated_at = now() WHERE event_id = $1 AND status = 'retrying'`, [eventId, ...args]);
    const [event] = await this.byIds([eventId]);
    if (!event) throw new Error(`failed event ${eventId} does not exist`);
    return event;
  }

  /** A person decided these need no retry (fixed by hand, or not worth it). Returns those skipped. */
  async skip(eventIds: number[], by: string, note: string): Promise<FailedEvent[]> {
    const { rows } = await this.pool.query<{ event_id: string }>(
      `UPDATE failed_events SET status = 'skipped', settled_by = $2, last_error = COALESCE($3, last_error), updated_at = now()
       WHERE event_id = ANY($1::bigint[]) AND status IN ('pending', 'retrying', 'dead_letter') RETURNING event_id`,
      [eventIds, by, note || null],
    );
    return this.byIds(rows.map((r) => Number(r.event_id)));
  }

  async get(eventIds: number[]): Promise<FailedEvent[]> {
    return this.byIds(eventIds);
  }

  async list(filter: { status?: FailedEventStatus[]; table?: string; limit?: number } = {}): Promise<FailedEvent[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status?.length) {
      args.push(filter.status);
      where.push(`f.status = ANY($${args.length}::text[])`);
    }
    if (filter.table) {
      args.push(filter.table);
      where.push(`(t.source_name || '.' || t.schema_name || '.' || t.table_name = $${args.length} OR f.subject = $${args.length})`);
    }
    args.push(filter.limit ?? 100);
    const { rows } = await this.pool.query<FailedEventRow>(`${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY f.event_id DESC LIMIT $${args.length}`, args);
    return rows.map(toEvent);
  }
}
