// Replaying the rows a lake batch set aside (failed events UncastableValue and StaleChange): the lake
// job's `replay` command reads exactly those rows from their raw files and takes them through the
// upsert's path again, with the table's current lake types. This activity describes the replay,
// runs it (through the lake job client, heartbeating; cancelling stops the job) and reads its
// result. It never changes the failed event: the reprocessing loop settles it from the answer.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ErrorType } from '../../lib/common/errors';
import type { TableRecord } from '../../lib/control-plane/store';
import {
  buildReplaySpec,
  parseS3Uri,
  replayAttempt,
  replayId,
  replayLocations,
  setAsideKind,
  setAsideRoot,
  summariseReplay,
  type LakeReplayActivities,
  type LakeReplayResult,
  type ReplayLakeRowsInput,
  type ReplayLakeRowsResult,
} from '../../lib/lake/replay';
import { LakeJobClient, lakeJobActivityFailure } from '../../lib/lake/job-client';
import { readObject } from '../../lib/raw-zone/objects';
import type { LakeDeps } from './index';

export function createLakeReplayActivity({ config, controlPlane, s3, runner }: LakeDeps): LakeReplayActivities {
  const bucket = config.buckets.processed;
  const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

  async function tableOf(key: string): Promise<TableRecord> {
    const [source, schema, name, ...rest] = key.split('.');
    const table = source && schema && name && rest.length === 0 ? await controlPlane.getTable(source, schema, name) : null;
    if (!table) throw refuse(ErrorType.InvalidTableDefinition, `table ${key}: not onboarded (danau tables list)`);
    return table;
  }

  async function readJson<T>(key: string): Promise<T | null> {
    try {
      return JSON.parse(Buffer.from(await readObject(s3, bucket, key)).toString('utf8')) as T;
    } catch {
      return null;
    }
  }

  /** Whether anything is stored under the location (Spark writes a directory: part files and _SUCCESS). */
  async function locationExists(uri: string): Promise<boolean> {
    const at = parseS3Uri(uri);
    if (!at) return false;
    const page = await s3.send(new ListObjectsV2Command({ Bucket: at.bucket, Prefix: at.prefix, MaxKeys: 1 }));
    return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
  }

  /**
   * The newest earlier replay of this event that finished: its result names what it left set aside,
   * which is all this one has to replay (rows it applied are not replayed again, so a change applied
   * then and superseded since does not come back as stale).
   */
  async function previousReplay(sourceBatchId: string, eventId: number, attempt: number): Promise<LakeReplayResult | null> {
    const { replaysPrefix } = replayLocations(config, sourceBatchId, replayId(eventId, attempt), '');
    const attempts: number[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${replaysPrefix}replay-${eventId}-`, Delimiter: '/', ContinuationToken: token }));
      for (const p of page.CommonPrefixes ?? []) {
        const n = replayAttempt((p.Prefix ?? '').slice(replaysPrefix.length).replace(/\/$/, ''), eventId);
        if (n !== null && n < attempt) attempts.push(n);
      }
      token = page.NextContinuationToken;
    } while (token);
    for (const n of attempts.sort((a, b) => b - a)) {
      const result = await readJson<LakeReplayResult>(replayLocations(config, sourceBatchId, replayId(eventId, n), '').resultKey);
      if (result?.ok) return result;
    }
    return null;
  }

  return {
    async replayLakeRows(input: ReplayLakeRowsInput): Promise<ReplayLakeRowsResult> {
      const ctx = Context.current();
      const { table: key, eventId, attempt, errorType, dataRef } = input;
      const kind = setAsideKind(errorType);
      if (!kind) throw refuse(ErrorType.InvalidTableDefinition, `failed event ${eventId}: ${String(errorType)} rows cannot be replayed (only UncastableValue and StaleChange)`);
      if (!Number.isInteger(attempt) || attempt < 0) throw refuse(ErrorType.InvalidTableDefinition, `failed event ${eventId}: attempt must be a whole number, not ${attempt}`);
      const table = await tableOf(key);
      if (table.pausedReason) throw refuse(ErrorType.TablePaused, `table ${key} is paused: ${table.pausedReason}`);
      const { rows } = await controlPlane.pool.query<{ table_id: string | null; error_type: string }>('SELECT table_id, error_type FROM failed_events WHERE event_id = $1', [eventId]);
      const event = rows[0];
      if (!event) throw refuse(ErrorType.InvalidTableDefinition, `failed event ${eventId} does not exist`);
      if (Number(event.table_id) !== table.tableId || event.error_type !== errorType) {
        throw refuse(ErrorType.InvalidTableDefinition, `failed event ${eventId} is a ${event.error_type} of table ${event.table_id ?? '-'}, not a ${errorType} of ${key} (table ${table.tableId})`);
      }
      const id = replayId(eventId, attempt);
      const root = setAsideRoot(dataRef.uri);

      // What is left to replay: the event's rows, or what the previous replay of it left set aside.
      const previous = await previousReplay(dataRef.batchId, eventId, attempt);
      if (previous && previous.rowsStillSetAside === 0) {
        return {
          rowsApplied: 0,
          rowsStillSetAside: 0,
          stillSetAsideUri: null,
          instant: previous.instant,
          alreadyApplied: true,
          replayId: id,
          replayedFrom: previous.setAsideUri,
          figures: null,
          reason: `${id}: nothing left to replay: ${previous.replayId} replayed every row (${summariseReplay(previous).reason})`,
        };
      }
      const from = previous?.stillSetAsideUri ?? dataRef.uri;
      if (!(await locationExists(from))) {
        throw refuse(ErrorType.ReplayDataMissing, `failed event ${eventId} of table ${key}: the set-aside rows at ${from} no longer exist; nothing to replay (skip the event)`);
      }

      const catalog = config.catalog.glueDatabase ? { type: 'glue' as const, database: config.catalog.glueDatabase } : null;
      const spec = buildReplaySpec(config, table, { eventId, attempt, kind, sourceBatchId: dataRef.batchId, setAsideUri: from, rootUri: root }, catalog);
      const at = replayLocations(config, dataRef.batchId, id, root);
      let result: LakeReplayResult;
      try {
        ({ result } = await new LakeJobClient({ s3, bucket, runner }).run('replay', spec, {
          specKey: at.specKey,
          name: `danau:lake-replay:${key}:${id}`,
          signal: ctx.cancellationSignal,
          heartbeat: (progress) => ctx.heartbeat(progress),
        }));
      } catch (err) {
        throw lakeJobActivityFailure(err, `table ${key}: replay ${id} of failed event ${eventId}`);
      }
      return { ...summariseReplay(result), replayId: id, replayedFrom: from, figures: result };
    },
  };
}
