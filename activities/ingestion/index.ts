// Ingestion activities: capturing a source database's changes into the raw zone in DMS's format.
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { ObjectConflictError, putObjectOnce } from '../../lib/s3';
import { ErrorType } from '../../lib/common/errors';
import { tableKey } from '../../lib/common/temporal';
import { CaptureError, tableProblemOf, type CaptureConnections, type CapturedTable, type TableProblem } from '../../lib/capture';
import { buildWindowFiles, changeSeq, type TableTarget, type WindowFile } from '../../lib/capture/window';
import type { DanauConfig } from '../../lib/config';
import type { CaptureSuspension, Checkpoint, ControlPlane } from '../../lib/control-plane/store';
import { encodeDmsParquet, formatCommitTimestamp, RawValueError, type RawChange } from '../../lib/raw-zone/dms-file';
import { cdcObjectKey, compareRawKeys, loadObjectKey, parseRawKey, rawTableOf, type RawTableRef } from '../../lib/raw-zone/keys';
import { FailedEventStore } from '../../lib/failed-events/store';
import { quoteSourceIdent, quoteSourceQualified, type SqlDialect } from '../../lib/sql/identifiers';
import type { CaptureActivities, CaptureWindowResult } from '../../workflows/captureSource';
import type { IngestionCheckActivities, IngestionCheckResult } from '../../workflows/checkIngestion';
import type { ReconcileActivities } from '../../workflows/reconcileTable';
import { keySetChecksum, listTableFiles, readObject, replayKeys } from '../../lib/raw-zone/objects';
import type { SourceConnections } from '../../lib/sources';
import { checkContinuity, checkFreshness, detectSchemaDrift } from '../../lib/raw-zone/checks';
import { readRawFileInfo, UnreadableRawFileError, type RawFileInfo } from '../../lib/raw-zone/read';

export interface IngestionDeps {
  config: DanauConfig;
  controlPlane: ControlPlane;
  s3: S3Client;
  captures: CaptureConnections;
  sources: SourceConnections;
}

/** Checkpoint names: one per source (its position), one per table (its last change in the raw zone). */
export const CaptureCheckpoint = {
  source: (source: string) => ({ pipeline: 'capture', subject: source }),
  table: (key: string) => ({ pipeline: 'capture-table', subject: key }),
};

// Errors a login gets that a retry will get again: PostgreSQL's invalid_authorization_specification,
// invalid_password and invalid_catalog_name; MySQL's access denied and unknown database.
const LOGIN_REFUSED = new Set(['28000', '28P01', '3D000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);

/** A table capture cannot name in SQL, quoted as its source quotes (its load selects every column by name): its problem, or null. */
function unreadableTable(t: CapturedTable, dialect: SqlDialect): TableProblem | null {
  for (const column of [null, ...t.columns.map((c) => c.name), ...t.primaryKey]) {
    try {
      if (column === null) quoteSourceQualified(t.schema, t.table, dialect);
      else quoteSourceIdent(column, dialect);
    } catch (err) {
      return { table: t.key, column, errorType: ErrorType.InvalidTableDefinition, message: `table ${t.key}: ${column === null ? '' : `column ${column}: `}capture cannot read it: ${(err as Error).message}` };
    }
  }
  return null;
}

// Full-load files hold this many rows each: small enough to encode in memory, large enough to be few.
const LOAD_ROWS_PER_FILE = 20_000;

export function createIngestionActivities({ config, controlPlane, s3, captures, sources }: IngestionDeps): CaptureActivities & IngestionCheckActivities & ReconcileActivities {
  // Raw files are written once: a redone window rewrites its same bytes, anything else is refused.
  async function put(key: string, body: Uint8Array): Promise<void> {
    try {
      await putObjectOnce(s3, { bucket: config.buckets.raw, key, body, contentType: 'application/vnd.apache.parquet' });
    } catch (err) {
      if (err instanceof ObjectConflictError) throw ApplicationFailure.create({ message: err.message, type: ErrorType.RawObjectConflict, nonRetryable: true });
      throw err;
    }
  }

  const failedEvents = new FailedEventStore(controlPlane.pool);

  function badInput(message: string): never {
    throw ApplicationFailure.create({ message, type: ErrorType.InvalidTableDefinition, nonRetryable: true });
  }

  const activities: CaptureActivities & IngestionCheckActivities & ReconcileActivities = {
    async reconcileTable({ table: key }) {
      const ctx = Context.current();
      const [sourceName, schema, name] = key.split('.');
      const table = sourceName && schema && name ? await controlPlane.getTable(sourceName, schema, name) : null;
      if (!table) badInput(`table ${key}: not onboarded (danau tables list)`);
      const source = (await controlPlane.getSource(table.sourceName))!;
      const sourceKeys = new Set(await sources.get(source).readKeys(table.schemaName, table.tableName, table.primaryKey));
      let files = 0;
      const rawKeys = await replayKeys(s3, config.buckets.raw, rawTableOf(table), table.primaryKey, (f) => {
        files++;
        ctx.heartbeat({ replayed: f });
      });
      const missingInRaw = [...sourceKeys].filter((k) => !rawKeys.has(k)).slice(0, 10);
      const extraInRaw = [...rawKeys].filter((k) => !sourceKeys.has(k)).slice(0, 10);
      const result = {
        table: key,
        match: missingInRaw.length === 0 && extraInRaw.length === 0,
        source: { rows: sourceKeys.size, checksum: keySetChecksum(sourceKeys) },
        raw: { rows: rawKeys.size, checksum: keySetChecksum(rawKeys), files },
        missingInRaw,
        extraInRaw,
      };
      const message = result.match
        ? `table ${key}: ${result.source.rows} rows and key checksum ${result.source.checksum} match the raw zone`
        : `table ${key}: source has ${result.source.rows} rows (checksum ${result.source.checksum}), the raw zone implies ${result.raw.rows} (checksum ${result.raw.checksum}); missing in raw: ${missingInRaw.join(', ') || 'none'}; extra in raw: ${extraInRaw.join(', ') || 'none'}`;
      await controlPlane.recordIngestionChecks(table.tableId, [{ name: 'reconciliation', ok: result.match, message, details: result }]);
      log.info('reconciled', { table: key, match: result.match, rows: result.source.rows });
      return result;
    },

    async checkIngestion({ table: key }) {
      const ctx = Context.current();
      const [sourceName, schema, name] = key.split('.');
      const table = sourceName && schema && name ? await controlPlane.getTable(sourceName, schema, name) : null;
      if (!table) badInput(`table ${key}: not onboarded (danau tables list)`);
      const checkpoint = await controlPlane.getCheckpoint('ingestion-check', key);
      const lastKey = typeof checkpoint?.details.lastKey === 'string' ? checkpoint.details.lastKey : '';

      // Files are listed and compared by name, never by modification time (apache/hudi#2850).
      const ordered = await listTableFiles(s3, config.buckets.raw, rawTableOf(table));
      const fresh = lastKey ? ordered.filter((k) => compareRawKeys(k, parseRawKey(lastKey)) > 0) : ordered;

      const infos: RawFileInfo[] = [];
      for (const k of fresh) {
        try {
          infos.push(await readRawFileInfo(k.key, await readObject(s3, config.buckets.raw, k.key)));
        } catch (err) {
          if (err instanceof UnreadableRawFileError) {
            throw ApplicationFailure.create({ message: `table ${key}: ${err.message}; move it aside to let the checks go on`, type: ErrorType.BadSourceData, nonRetryable: true });
          }
          throw err;
        }
        ctx.heartbeat({ read: k.key });
      }

      const newest = infos.length ? infos[infos.length - 1]!.newestCommitTimestamp : ((checkpoint?.details.newestCommit as string | undefined) ?? null);
      const freshness = checkFreshness(key, newest ? new Date(`${newest.replace(' ', 'T')}Z`) : null, new Date(), table.freshnessSlaMinutes);
      const continuity = checkContinuity(key, infos, checkpoint?.position ?? '');
      const drift = infos.map((i) => detectSchemaDrift(key, table.columns, i.schema)).find((d) => !d.ok);
      const checks: IngestionCheckResult[] = [
        { name: 'freshness', ok: freshness.ok, message: freshness.message },
        { name: 'continuity', ok: continuity.ok, message: continuity.message },
        { name: 'schema_drift', ok: !drift, message: drift ? drift.message : `table ${key}: schema unchanged in ${infos.length} new file(s)` },
      ];
      await controlPlane.recordIngestionChecks(table.tableId, [
        { ...checks[0]!, details: { lagSeconds: freshness.lagSeconds, slaMinutes: table.freshnessSlaMinutes } },
        { ...checks[1]!, details: { files: infos.length, problems: continuity.problems } },
        { ...checks[2]!, details: drift ? { added: drift.added, dropped: drift.dropped, retyped: drift.retyped } : {} },
      ]);
      const paused = drift ? drift.message : null;
      if (paused) await controlPlane.pauseTable(table.tableId, paused, 'checkIngestion');
      // Move on past files that chain correctly; a gap keeps failing until someone looks.
      if (continuity.ok && infos.length) {
        const last = infos[infos.length - 1]!;
        await controlPlane.saveCheckpoints([{ pipeline: 'ingestion-check', subject: key, position: last.lastChangeSeq, details: { lastKey: last.key, newestCommit: last.newestCommitTimestamp } }]);
      }
      log.info('ingestion checks', { table: key, files: infos.length, ok: checks.every((c) => c.ok) });
      return { table: key, ok: checks.every((c) => c.ok), filesChecked: infos.length, checks, paused };
    },

    async captureWindow({ source: sourceName, maxChanges }): Promise<CaptureWindowResult> {
      const ctx = Context.current();
      const suspendedNow = new Set<string>();
      const source = await controlPlane.getSource(sourceName);
      if (!source) throw ApplicationFailure.create({ message: `source: no source named ${sourceName} is registered`, type: ErrorType.UnknownSource, nonRetryable: true });
      const url = await sources.connectionUrl(source);
      const capture = captures.get(source, url);

      // Capture carries every onboarded table, enabled or not (enabled decides whether its pipeline
      // is scheduled): a table disabled for a while and enabled again has missed nothing. A table
      // gone from the source is skipped when disabled and an error when enabled.
      const catalog = sources.get(source);
      const tables: CapturedTable[] = [];
      const missing: string[] = [];
      for (const t of (await controlPlane.listTables()).filter((r) => r.sourceName === sourceName)) {
        const key = tableKey({ source: t.sourceName, schema: t.schemaName, table: t.tableName });
        if (!(await catalog.describeTable(t.schemaName, t.tableName))) {
          if (t.enabled) missing.push(key);
          continue;
        }
        tables.push({ key, schema: t.schemaName, table: t.tableName, primaryKey: t.primaryKey, columns: t.columns });
      }
      if (missing.length) {
        throw ApplicationFailure.create({
          message: `source ${sourceName}: onboarded table(s) ${missing.join(', ')} no longer exist at the source; disable them (danau tables add … --disabled) or re-create them`,
          type: ErrorType.BadSourceData,
          nonRetryable: true,
        });
      }
      if (tables.length === 0) badInput(`source ${sourceName}: no onboarded table exists at the source (danau tables add)`);

      // Heartbeat on a clock, not only between steps: a long read, a large transaction or a slot
      // waiting for old transactions must not look like a dead worker and be redone over and over.
      const beat = setInterval(() => ctx.heartbeat(), 5_000);
      return withCaptureErrors(async () => {
        const tableCheckpoints = new Map<string, Checkpoint>();
        for (const t of tables) {
          const cp = await controlPlane.getCheckpoint('capture-table', t.key);
          if (cp) tableCheckpoints.set(t.key, cp);
        }
        // A table whose capture is suspended is skipped until a person resumes it; a table capture
        // cannot read is suspended before it can stop the others.
        let active = tables.filter((t) => !tableCheckpoints.get(t.key)?.details.suspended);
        for (const t of active) {
          const problem = unreadableTable(t, source.engine === 'mysql' ? 'mysql' : 'postgres');
          if (problem) await suspend(problem);
        }
        active = active.filter((t) => !suspendedNow.has(t.key));
        await capture.prepare(active);
        const saved = await controlPlane.getCheckpoint('capture', sourceName);
        const state = await capture.streamState(saved?.position || null, saved?.details.firstSnapshot === true);
        if (state === 'lost') {
          throw ApplicationFailure.create({
            message: `source ${sourceName}: the saved position ${saved?.position} can no longer be read (replication slot dropped or binlog purged); re-snapshot the source's tables`,
            type: ErrorType.SourcePositionLost,
            nonRetryable: true,
          });
        }

        // Tables never loaded get their full load first, consistent with where their CDC starts; a
        // table resumed after a suspension gets a reload, for the changes it missed.
        const toLoad = active.filter((t) => !tableCheckpoints.has(t.key) || tableCheckpoints.get(t.key)!.details.reload === true);
        const loaded: CaptureWindowResult['loaded'] = [];
        if (toLoad.length > 0 || state === 'new') {
          // Mark the first snapshot as begun, so a retry after a crash may clear what it left behind.
          if (state === 'new') await controlPlane.saveCheckpoints([{ ...CaptureCheckpoint.source(sourceName), position: '', details: { firstSnapshot: true } }]);
          // LOAD files of a table not yet recorded as loaded are leftovers of a load that died.
          // Files after a reloaded table's last recorded change are leftovers of a reload that died (or
          // of a window the reload covers): the reload writes them anew, so they would break the chain.
          for (const t of toLoad) {
            const prior = tableCheckpoints.get(t.key);
            if (prior) await deleteFilesAfter({ source: sourceName, schema: t.schema, table: t.table }, prior.position);
            else await deleteLoadFiles({ source: sourceName, schema: t.schema, table: t.table });
          }
          await capture.withSnapshot(state === 'new', async (reader, point) => {
            const loadedAt = formatCommitTimestamp(new Date().toISOString());
            const checkpoints: Checkpoint[] = [];
            for (const t of toLoad) {
              // A reload goes after the table's last change, as CDC-named files of inserts chained to
              // it: continuity holds, and the lake, which has consumed the first LOAD files, takes them.
              const prior = tableCheckpoints.get(t.key);
              const keyTimestamp = prior && typeof prior.details.lastKeyTimestamp === 'string' && prior.details.lastKeyTimestamp > loadedAt ? prior.details.lastKeyTimestamp : loadedAt;
              let files = 0;
              let previous = prior?.position ?? '';
              try {
                const rows = await reader.readTable(t, LOAD_ROWS_PER_FILE, async (batch) => {
                  const changes: RawChange[] = batch.map((values, i) => ({ op: 'I', commitTimestamp: loadedAt, changeSeq: changeSeq(point.seqPrefix, files * LOAD_ROWS_PER_FILE + i), values }));
                  files++;
                  const key = prior ? cdcObjectKey({ source: sourceName, schema: t.schema, table: t.table }, keyTimestamp, changes[0]!.changeSeq) : loadObjectKey({ source: sourceName, schema: t.schema, table: t.table }, files);
                  await put(key, await encodeDmsParquet({ table: t.key, columns: t.columns, changes, previousChangeSeq: previous }));
                  previous = changes[changes.length - 1]!.changeSeq;
                  ctx.heartbeat({ loading: t.key, files });
                });
                loaded.push({ table: t.key, rows, files });
                // Loaded (again, after a suspension): its capture problem, if it had one, is over.
                await failedEvents.resolveCaptureFailures(t.key, 'captureSource');
              } catch (err) {
                const problem = tableProblemOf(err);
                if (!problem) throw err;
                await suspend(problem);
                continue;
              }
              // CDC changes at or before the snapshot are already in the load.
              checkpoints.push({
                ...CaptureCheckpoint.table(t.key),
                position: previous,
                details: { skipThrough: `${point.seqPrefix}FFFFFFFF`, loadedAt, ...(prior ? { lastKeyTimestamp: keyTimestamp, reloadedAt: loadedAt } : {}) },
              });
            }
            if (state === 'new') checkpoints.push({ ...CaptureCheckpoint.source(sourceName), position: point.resumePosition, details: {} });
            await controlPlane.saveCheckpoints(checkpoints);
            for (const c of checkpoints) if (c.pipeline === 'capture-table') tableCheckpoints.set(c.subject, c);
          });
          log.info('full load done', { source: sourceName, loaded });
        }

        // The window: redo exactly the pending one if a run died mid-way, else take what is new.
        const current = (await controlPlane.getCheckpoint('capture', sourceName))!;
        const pendingEnd = typeof current.details.pendingEnd === 'string' ? current.details.pendingEnd : null;
        active = active.filter((t) => !suspendedNow.has(t.key));
        let window: Awaited<ReturnType<typeof capture.read>>;
        for (;;) {
          try {
            window = await capture.read(active, current.position, pendingEnd, maxChanges);
            break;
          } catch (err) {
            // A change of one table that cannot be read: that table is suspended, the window read again without it.
            const problem = tableProblemOf(err);
            if (!problem || !active.some((t) => t.key === problem.table)) throw err;
            await suspend(problem);
            active = active.filter((t) => t.key !== problem.table);
          }
        }
        ctx.heartbeat({ transactions: window.transactions.length });
        if (!window.endPosition) {
          return { source: sourceName, position: current.position, transactions: 0, changes: 0, files: [], loaded, lagSeconds: null, suspended: await suspendedTables() };
        }
        if (!pendingEnd) {
          await controlPlane.saveCheckpoints([{ ...CaptureCheckpoint.source(sourceName), position: current.position, details: { pendingEnd: window.endPosition } }]);
        }

        const targets = new Map<string, TableTarget>(
          active.map((t) => {
            const cp = tableCheckpoints.get(t.key);
            const last = cp?.position ?? '';
            const skip = typeof cp?.details.skipThrough === 'string' && cp.details.skipThrough > last ? cp.details.skipThrough : last;
            const lastKeyTimestamp = typeof cp?.details.lastKeyTimestamp === 'string' ? cp.details.lastKeyTimestamp : '';
            return [t.key, { source: sourceName, schema: t.schema, table: t.table, lastChangeSeq: last, skipThrough: skip, lastKeyTimestamp }];
          }),
        );
        // Every file is encoded before any is written: a table with a value that does not fit is
        // suspended with none of this window's files, and comes back whole with its reload.
        const encoded = new Map<WindowFile, Uint8Array>();
        for (const f of buildWindowFiles(window.transactions, targets)) {
          if (suspendedNow.has(f.table)) continue;
          try {
            encoded.set(f, await encodeDmsParquet(f.file));
          } catch (err) {
            const problem = tableProblemOf(err);
            if (!problem) throw err;
            await suspend(problem);
          }
        }
        const files = [...encoded.keys()].filter((f) => !suspendedNow.has(f.table));
        for (const f of files) {
          await put(f.key, encoded.get(f)!);
          ctx.heartbeat({ written: f.key });
        }
        // Files are in S3: now, and only now, the positions move, and then the source may forget.
        // Only if this window is still the pending one: an attempt that outlived its heartbeat must
        // not move positions back after a newer attempt has moved them on.
        const recorded = await controlPlane.saveCheckpoints([
          ...lastFilePerTable(files).map((f) => ({
            ...CaptureCheckpoint.table(f.table),
            position: f.lastChangeSeq,
            details: { ...(tableCheckpoints.get(f.table)?.details ?? {}), lastKeyTimestamp: f.keyTimestamp },
          })),
          { ...CaptureCheckpoint.source(sourceName), position: window.endPosition, details: {} },
        ], { ...CaptureCheckpoint.source(sourceName), key: 'pendingEnd', value: window.endPosition });
        if (!recorded) {
          log.warn('window already recorded by another attempt; not saving again', { source: sourceName, position: window.endPosition });
          return { source: sourceName, position: window.endPosition, transactions: 0, changes: 0, files: [], loaded, lagSeconds: null, suspended: await suspendedTables() };
        }
        await capture.release(window.endPosition);

        const newest = window.transactions[window.transactions.length - 1]?.commitTimestamp;
        const lagSeconds = newest ? Math.max(0, Math.round((Date.now() - Date.parse(`${newest.replace(' ', 'T')}Z`)) / 1000)) : null;
        const changes = files.reduce((n, f) => n + f.file.changes.length, 0);
        log.info('captured window', { source: sourceName, position: window.endPosition, files: files.length, changes });
        return {
          source: sourceName,
          position: window.endPosition,
          transactions: window.transactions.length,
          changes,
          files: files.map((f) => ({ table: f.table, key: f.key, changes: f.file.changes.length })),
          loaded,
          lagSeconds,
          suspended: await suspendedTables(),
        };
      }).finally(() => clearInterval(beat));

      async function suspend(problem: TableProblem): Promise<void> {
        suspendedNow.add(problem.table);
        const suspension: CaptureSuspension = { errorType: problem.errorType, reason: problem.message, column: problem.column, at: new Date().toISOString() };
        if (!(await controlPlane.suspendTableCapture(problem.table, suspension, 'captureSource'))) return;
        const { workflowId = '', runId = '' } = ctx.info.workflowExecution ?? {};
        await failedEvents.recordCaptureFailure({ subject: problem.table, errorType: problem.errorType, reason: problem.message, dataRef: { source: sourceName, column: problem.column, workflowId }, workflowId, runId });
        log.warn('table capture suspended', { source: sourceName, table: problem.table, column: problem.column, errorType: problem.errorType });
      }

      async function suspendedTables(): Promise<CaptureWindowResult['suspended']> {
        // The source works: a source-level problem filed earlier is over.
        await failedEvents.resolveCaptureFailures(sourceName, 'captureSource');
        return (await controlPlane.suspendedCaptures(sourceName)).map((s) => ({ table: s.table, errorType: s.errorType, reason: s.reason, since: s.at }));
      }
    },
  };

  // A failure of the whole source that no retry can fix (a missing connection variable or secret, a
  // refused login, a lost position) fails the window at once and is filed once as a failed event.
  const captureTablesWindow = activities.captureWindow;
  activities.captureWindow = async (input) => {
    try {
      return await captureTablesWindow(input);
    } catch (err) {
      const failure = await sourceFailureOf(err, input.source);
      if (!failure) throw err;
      const { workflowId = '', runId = '' } = Context.current().info.workflowExecution ?? {};
      await failedEvents.recordCaptureFailure({ subject: input.source, errorType: failure.type ?? ErrorType.SourceMisconfigured, reason: failure.message, dataRef: { source: input.source, workflowId }, workflowId, runId });
      throw failure;
    }
  };
  return activities;

  async function deleteLoadFiles(ref: RawTableRef): Promise<void> {
    const loads = (await listTableFiles(s3, config.buckets.raw, ref)).filter((f) => f.kind === 'load');
    for (let i = 0; i < loads.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: config.buckets.raw, Delete: { Objects: loads.slice(i, i + 1000).map((f) => ({ Key: f.key })) } }));
    }
  }

  async function deleteFilesAfter(ref: RawTableRef, lastChangeSeq: string): Promise<void> {
    const after = (await listTableFiles(s3, config.buckets.raw, ref)).filter((f) => f.kind === 'cdc' && f.firstChangeSeq !== undefined && f.firstChangeSeq > lastChangeSeq);
    for (let i = 0; i < after.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: config.buckets.raw, Delete: { Objects: after.slice(i, i + 1000).map((f) => ({ Key: f.key })) } }));
    }
  }

  /** A table can get two files in one window (a schema change mid-window): its checkpoint is the last. */
  function lastFilePerTable(files: WindowFile[]): WindowFile[] {
    return [...new Map(files.map((f) => [f.table, f])).values()];
  }

  /** The source-level failure a retry cannot fix that `err` is, as the failure to throw; else null. */
  async function sourceFailureOf(err: unknown, sourceName: string): Promise<ApplicationFailure | null> {
    if (err instanceof ApplicationFailure) {
      // Whoever raised it (the secret lookup, a connection check): a misconfigured source is never retried.
      if (err.type === ErrorType.SourceMisconfigured && !err.nonRetryable) return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: true, cause: err });
      return err.nonRetryable ? err : null;
    }
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !LOGIN_REFUSED.has(code)) return null;
    const env = (await controlPlane.getSource(sourceName).catch(() => null))?.connectionSecret;
    return ApplicationFailure.create({
      message: `source ${sourceName}: the source refused the connection (${code}: ${(err as Error).message}); fix the user, password or database in ${env ?? 'its connection string'}`,
      type: ErrorType.SourceMisconfigured,
      nonRetryable: true,
      cause: err as Error,
    });
  }

  /** Bad source data is not retried: the message names the table and column to fix. */
  async function withCaptureErrors<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof RawValueError || (err instanceof CaptureError && err.kind === 'bad-data')) {
        throw ApplicationFailure.create({ message: err.message, type: ErrorType.BadSourceData, nonRetryable: true });
      }
      if (err instanceof CaptureError) throw ApplicationFailure.create({ message: err.message, type: ErrorType.SourcePositionLost, nonRetryable: true });
      throw err;
    }
  }
}
