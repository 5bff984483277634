// Archive activities: each dangerous step of raw-zone archival is its own activity (list, build and
// upload, verify and record, delete originals, recover), so each has its own retry policy and a
// worker killed in one of them costs only that step. Every step is safe to repeat: it reads the
// archive's recorded state first and carries on from there. Long steps heartbeat every few seconds
// with their progress; a dead worker is noticed within the heartbeat timeout and the step retried.
import { Context, log } from '@temporalio/activity';
import { setMaxListeners } from 'node:events';
import { ApplicationFailure } from '@temporalio/common';
import { DeleteObjectCommand, DeleteObjectsCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { buildZip, type SourceObject } from '../../lib/archive/build';
import { estimateArchive, monthlyStorageCost, priceTable, sumEstimates, tally, type Tally } from '../../lib/archive/cost';
import { ArchiveErrorType } from '../../lib/archive/errors';
import { abortIncompleteUploads, MultipartUpload, partSizeFor } from '../../lib/archive/multipart';
import { checkDate, checkPartition, isOldEnough, partitionOfKey, partitionOverlaps, partitionPrefix, zipKeyFor, type ArchiveLevel } from '../../lib/archive/partition';
import { recoverEntries } from '../../lib/archive/recover';
import { isNotFound, listPrefix, s3RangeReader, type ListedObject } from '../../lib/archive/s3';
import { DEFAULT_ARCHIVE_SETTINGS, type ArchiveSettings } from '../../lib/archive/settings';
import { ArchiveStore, VERIFIED_STATUSES, type ArchiveRecord } from '../../lib/archive/store';
import { verifyZip } from '../../lib/archive/verify';
import { crc32Base64 } from '../../lib/archive/zip';
import { ErrorType } from '../../lib/common/errors';
import { tableKey } from '../../lib/common/temporal';
import type { DanauConfig } from '../../lib/config';
import type { ControlPlane, TableRecord } from '../../lib/control-plane/store';
import { rawTableOf, tablePrefix } from '../../lib/raw-zone/keys';
import type { ArchivePartitionActivities, BuiltZip, PartitionPlan, VerifiedArchive } from '../../workflows/archivePartition';
import type { ArchiveCandidate, ArchiveTablesActivities, SkippedPartition, StorageMeasure } from '../../workflows/archiveTables';
import type { RecoverTableActivities } from '../../workflows/recoverTable';

export interface ArchiveDeps {
  config: Pick<DanauConfig, 'buckets'>;
  controlPlane: ControlPlane;
  s3: S3Client;
  /** config.archive (the worker passes it); DEFAULT_ARCHIVE_SETTINGS for what is left out. */
  settings?: Partial<ArchiveSettings>;
}

export type ArchiveActivities = ArchivePartitionActivities & ArchiveTablesActivities & RecoverTableActivities;

const HEARTBEAT_MS = 2_000;

/**
 * Heartbeats every couple of seconds while `work` runs, with whatever `progress` says now: a step
 * blocked in one long S3 or database call still proves its worker alive, and a killed worker stops
 * heartbeating at once.
 */
async function heartbeating<T>(progress: () => unknown, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat(progress());
  const timer = setInterval(() => ctx.heartbeat(progress()), HEARTBEAT_MS);
  // Every concurrent S3 request listens on the signal: more than Node's default ten is expected.
  const scope = new AbortController();
  setMaxListeners(0, scope.signal);
  const cancel = () => scope.abort(ctx.cancellationSignal.reason);
  if (ctx.cancellationSignal.aborted) cancel();
  ctx.cancellationSignal.addEventListener('abort', cancel);
  try {
    return await work(scope.signal);
  } finally {
    clearInterval(timer);
    ctx.cancellationSignal.removeEventListener('abort', cancel);
  }
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ArchiveErrorType.InvalidArchiveRequest, message, nonRetryable: true });
}

function verificationFailed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ArchiveErrorType.ArchiveVerificationFailed, message, nonRetryable: true });
}

/** HeadObject's answer, or null when the object is not there (other errors go on up). */
function nullIfMissing(err: unknown): null {
  if (isNotFound(err)) return null;
  throw err;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export function createArchiveActivities({ config, controlPlane, s3, settings: overrides }: ArchiveDeps): ArchiveActivities {
  const settings: ArchiveSettings = { ...DEFAULT_ARCHIVE_SETTINGS, ...overrides };
  const store = new ArchiveStore(controlPlane.pool);
  const rawBucket = config.buckets.raw;
  const archiveBucket = config.buckets.archive;

  async function tableOf(key: string): Promise<TableRecord> {
    const [source, schema, name, ...rest] = key.split('.');
    const table = source && schema && name && rest.length === 0 ? await controlPlane.getTable(source, schema, name) : null;
    if (!table) throw ApplicationFailure.create({ type: ErrorType.InvalidTableDefinition, message: `table ${key}: not onboarded (danau tables list)`, nonRetryable: true });
    return table;
  }

  async function archiveOf(archiveId: number): Promise<ArchiveRecord> {
    const a = await store.get(archiveId);
    if (!a) throw invalid(`archive ${archiveId} does not exist`);
    return a;
  }

  const nameOf = (t: TableRecord) => tableKey({ source: t.sourceName, schema: t.schemaName, table: t.tableName });
  const label = (a: ArchiveRecord) => `${a.schemaName}.${a.tableName} ${a.level} ${a.partition}${a.generation ? ` (generation ${a.generation})` : ''}`;

  async function deleteZipObject(a: ArchiveRecord): Promise<void> {
    await abortIncompleteUploads(s3, a.zipBucket, a.zipKey);
    await s3.send(new DeleteObjectCommand({ Bucket: a.zipBucket, Key: a.zipKey }));
  }

  /** The partition's files as they are now: CDC keys of this table and partition only. */
  async function listPartition(t: TableRecord, level: ArchiveLevel, partition: string, signal?: AbortSignal): Promise<{ objects: ListedObject[]; ignored: number }> {
    const listed = await listPrefix(s3, rawBucket, partitionPrefix(rawTableOf(t), level, partition), { signal });
    const objects = listed.filter((o) => partitionOfKey(o.key, level)?.partition === partition);
    return { objects, ignored: listed.length - objects.length };
  }

  /**
   * The objects no verified archive holds. An object is held when a claimed entry has its key and
   * its ETag, or (a recovered file, whose ETag may differ: multipart, SSE-KMS) its size and a stored
   * CRC-32 equal to the entry's.
   */
  async function unclaimed(t: TableRecord, objects: readonly ListedObject[], signal?: AbortSignal): Promise<ListedObject[]> {
    const claimed = await store.claimedKeys(
      t.tableId,
      objects.map((o) => o.key),
    );
    const out: ListedObject[] = [];
    for (const o of objects) {
      const c = claimed.get(o.key);
      if (!c) out.push(o);
      else if (c.etag === o.etag) continue;
      else if (c.size !== o.size || c.crc32 === null) out.push(o);
      else {
        const head = await s3.send(new HeadObjectCommand({ Bucket: rawBucket, Key: o.key, ChecksumMode: 'ENABLED' }), { abortSignal: signal }).catch(nullIfMissing);
        if (head && head.ChecksumCRC32 !== crc32Base64(c.crc32)) out.push(o);
      }
    }
    return out;
  }

  const planOf = (t: TableRecord, a: ArchiveRecord, extra: Partial<PartitionPlan>): PartitionPlan => ({
    table: nameOf(t),
    level: a.level,
    partition: a.partition,
    archiveId: a.archiveId,
    generation: a.generation,
    status: a.status,
    files: a.fileCount,
    bytes: a.originalBytes,
    zipBucket: a.zipBucket,
    zipKey: a.zipKey,
    resumed: true,
    notConsumed: 0,
    alreadyArchived: 0,
    message: `resuming archive ${a.archiveId} of ${label(a)} (${a.status})`,
    ...extra,
  });

  return {
    async listArchivePartition({ table: key, partition, level: wanted }) {
      const t = await tableOf(key);
      const level = wanted ?? t.archiveLevel;
      try {
        checkPartition(level, partition);
      } catch (err) {
        throw invalid(`${key}: ${(err as Error).message}`);
      }
      return heartbeating(
        () => ({ listing: partition }),
        async (signal) => {
          const latest = await store.latest(t.tableId, level, partition);
          // Verified and not fully deleted: carry on deleting; new files wait for the next generation.
          if (latest?.status === 'verified') return planOf(t, latest, {});

          const { objects } = await listPartition(t, level, partition, signal);
          const keys = objects.map((o) => o.key);
          const consumed = await store.consumedKeys(t.tableId, keys);
          // Still in place but already in a verified zip (e.g. recovered files): not archived twice.
          const open = await unclaimed(t, objects, signal);
          const alreadyArchived = objects.length - open.length;
          const eligible = open.filter((o) => consumed.has(o.key)).sort((a, b) => byteOrder(a.key, b.key));
          const notConsumed = open.length - eligible.length;
          const unfinished = latest && !VERIFIED_STATUSES.includes(latest.status) ? latest : null;
          const generation = unfinished ? unfinished.generation : latest ? latest.generation + 1 : 0;
          const zipKey = zipKeyFor(rawTableOf(t), level, partition, generation);
          const base: PartitionPlan = {
            table: key,
            level,
            partition,
            archiveId: null,
            generation,
            status: 'nothing',
            files: eligible.length,
            bytes: eligible.reduce((n, o) => n + o.size, 0),
            zipBucket: archiveBucket,
            zipKey,
            resumed: false,
            notConsumed,
            alreadyArchived,
            message: '',
          };

          if (eligible.length === 0) {
            // An unverified archive left by a stopped run that now claims nothing: drop it and its zip.
            if (unfinished) {
              await deleteZipObject(unfinished);
              await store.discard(unfinished.archiveId);
            }
            const why =
              objects.length === 0
                ? 'no raw files in the partition'
                : `${objects.length} raw files, ${alreadyArchived} already in a verified archive, ${notConsumed} not yet consumed by the lake`;
            return { ...base, message: `nothing to archive in ${key} ${level} ${partition}: ${why}` };
          }

          // The unfinished archive planned exactly these files: carry it on rather than start again.
          if (unfinished) {
            const planned = await store.entries(unfinished.archiveId);
            const same = planned.length === eligible.length && planned.every((p, i) => p.key === eligible[i]!.key && p.etag === eligible[i]!.etag);
            if (same && unfinished.status !== 'failed') return planOf(t, unfinished, { notConsumed, alreadyArchived });
          }

          const archiveId = await store.plan({
            tableId: t.tableId,
            schema: t.schemaName,
            table: t.tableName,
            level,
            partition,
            generation,
            sourceBucket: rawBucket,
            sourcePrefix: partitionPrefix(rawTableOf(t), level, partition),
            zipBucket: archiveBucket,
            zipKey,
            objects: eligible.map((o) => ({ key: o.key, size: o.size, etag: o.etag, lastModified: o.lastModified, fileDate: partitionOfKey(o.key, level)!.date })),
          });
          const message = `${key} ${level} ${partition}: ${eligible.length} files (${base.bytes} bytes) planned as archive ${archiveId}${notConsumed ? `; ${notConsumed} not yet consumed by the lake stay` : ''}`;
          log.info(message);
          return { ...base, archiveId, status: 'listed', resumed: unfinished !== null, message };
        },
      );
    },

    async buildArchiveZip({ archiveId }) {
      let a = await archiveOf(archiveId);
      const summary = (x: ArchiveRecord, extra: Partial<BuiltZip>): BuiltZip => ({
        archiveId,
        zipKey: x.zipKey,
        zipBytes: x.zippedBytes ?? 0,
        files: x.fileCount,
        skipped: 0,
        originalBytes: x.originalBytes,
        crc32: x.zipChecksum,
        sha256: x.zipSha256,
        reused: true,
        abortedUploads: 0,
        empty: false,
        ...extra,
      });
      if (VERIFIED_STATUSES.includes(a.status)) return summary(a, {});
      if (a.status === 'uploaded' && a.zipEtag) {
        // Built by an attempt that died before answering: keep its zip if it is still there.
        const head = await s3.send(new HeadObjectCommand({ Bucket: a.zipBucket, Key: a.zipKey })).catch(nullIfMissing);
        if (head?.ETag === a.zipEtag) return summary(a, {});
      }
      const progress = { entries: 0, bytesRead: 0, zipBytes: 0 };
      return heartbeating(
        () => progress,
        async (signal) => {
          const abortedUploads = await abortIncompleteUploads(s3, a.zipBucket, a.zipKey);
          const planned = await store.entries(archiveId);
          const objects: SourceObject[] = planned.map((e) => ({ key: e.key, size: e.size, etag: e.etag ?? '', lastModified: e.lastModified ?? new Date(0) }));
          const total = objects.reduce((n, o) => n + o.size, 0);
          const upload = await MultipartUpload.start({
            s3,
            bucket: a.zipBucket,
            key: a.zipKey,
            storageClass: 'STANDARD_IA',
            sse: settings.sse,
            partSize: partSizeFor(total, settings.partSize),
            checksum: settings.s3Checksum,
            contentType: 'application/zip',
            metadata: { 'danau-archive-id': String(archiveId), 'danau-table': `${a.schemaName}.${a.tableName}`, 'danau-partition': `${a.level}:${a.partition}`, 'danau-generation': String(a.generation) },
            abortSignal: signal,
          });
          if (!(await store.markUploading(archiveId, upload.uploadId))) {
            // Someone moved the archive on (verified it) meanwhile: their zip stands.
            await upload.abort();
            a = await archiveOf(archiveId);
            return summary(a, {});
          }
          try {
            const { summary: zip, entries } = await buildZip({
              s3,
              bucket: a.sourceBucket ?? rawBucket,
              objects,
              sink: upload,
              concurrency: settings.getConcurrency,
              level: settings.deflateLevel,
              comment: `danau raw-zone archive ${a.schemaName}.${a.tableName} ${a.level} ${a.partition} generation ${a.generation}`,
              onProgress: (done, bytesRead) => Object.assign(progress, { entries: done, bytesRead, zipBytes: upload.bytesWritten }),
              signal,
            });
            const zipped = entries.filter((e) => e.state === 'zipped');
            if (zipped.length === 0) {
              await upload.abort();
              await store.discard(archiveId);
              return { ...summary(a, {}), files: 0, originalBytes: 0, skipped: entries.length, reused: false, abortedUploads, empty: true };
            }
            const done = await upload.complete();
            if (!(await store.recordBuild(archiveId, done, entries))) throw new Error(`archive ${archiveId} changed state while its zip was built; the next attempt starts again`);
            log.info('archive zip uploaded', { archiveId, zipKey: a.zipKey, entries: zip.entries, zipBytes: done.bytes, zip64: zip.zip64 });
            return {
              archiveId,
              zipKey: a.zipKey,
              zipBytes: done.bytes,
              files: zipped.length,
              skipped: entries.length - zipped.length,
              originalBytes: zipped.reduce((n, e) => n + (e.state === 'zipped' ? e.size : 0), 0),
              crc32: done.crc32,
              sha256: done.sha256,
              reused: false,
              abortedUploads,
              empty: false,
            };
          } catch (err) {
            await upload.abort();
            throw err;
          }
        },
      );
    },

    async verifyArchive({ archiveId, deep, prices }) {
      const a = await archiveOf(archiveId);
      const table = priceTable(prices);
      const result = (x: ArchiveRecord, deepChecked: number): VerifiedArchive => ({
        archiveId,
        files: x.fileCount,
        originalBytes: x.originalBytes,
        zipBytes: x.zippedBytes ?? 0,
        deepChecked,
        estimate: estimateArchive({ originals: { storageClass: 'STANDARD', objects: x.fileCount, bytes: x.originalBytes, billableBytes: x.originalBytes }, zipBytes: x.zippedBytes ?? 0 }, table),
      });
      if (VERIFIED_STATUSES.includes(a.status)) return result(a, 0);
      if (a.status !== 'uploaded') throw verificationFailed(`archive ${archiveId} of ${label(a)} is ${a.status}, not uploaded: nothing to verify, nothing deleted`);
      const progress = { checked: 0 };
      return heartbeating(
        () => progress,
        async (signal) => {
          const fail = async (problems: string[]): Promise<never> => {
            const message = `archive ${archiveId} of ${label(a)} failed verification, nothing deleted (the next run rebuilds it): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`;
            await store.markFailed(archiveId, message);
            throw verificationFailed(message);
          };
          const head = await s3.send(new HeadObjectCommand({ Bucket: a.zipBucket, Key: a.zipKey, ChecksumMode: 'ENABLED' }), { abortSignal: signal }).catch(nullIfMissing);
          if (!head) return fail([`s3://${a.zipBucket}/${a.zipKey} is missing`]);
          const storedClass = head.StorageClass ?? 'STANDARD';
          if (storedClass !== 'STANDARD_IA') {
            const message = `s3://${a.zipBucket}/${a.zipKey} is stored as ${storedClass}, not STANDARD_IA: the bucket or store does not keep the storage class`;
            await store.markFailed(archiveId, message);
            throw ApplicationFailure.create({ type: ErrorType.ObjectStoreMisconfigured, message, nonRetryable: true });
          }
          const problems: string[] = [];
          if (head.ETag !== a.zipEtag) problems.push(`the zip's ETag is ${head.ETag}, the build uploaded ${a.zipEtag}: replaced since`);
          if (head.ContentLength !== a.zippedBytes) problems.push(`the zip is ${head.ContentLength} bytes, the build uploaded ${a.zippedBytes}`);
          if (head.ChecksumCRC32 && a.zipChecksum && head.ChecksumCRC32 !== a.zipChecksum) problems.push(`the store's CRC-32 of the zip is ${head.ChecksumCRC32}, the build computed ${a.zipChecksum}`);
          if (problems.length) return fail(problems);
          const reader = await s3RangeReader(s3, a.zipBucket, a.zipKey, { etag: head.ETag!, size: head.ContentLength! }, signal);
          const manifest = (await store.entries(archiveId, ['zipped'])).map((e) => ({ key: e.key, size: e.size, crc32: e.crc32 ?? -1, offset: e.offset, compressedSize: e.compressedSize }));
          const verified = await verifyZip(reader, manifest, { deep, onProgress: (n) => (progress.checked = n) });
          if (!verified.ok) return fail(verified.problems);
          await store.markVerified(archiveId);
          log.info('archive verified', { archiveId, entries: manifest.length, deepChecked: verified.deepChecked });
          return result(await archiveOf(archiveId), verified.deepChecked);
        },
      );
    },

    async deleteArchivedOriginals({ archiveId, maxKeys, batchKeys }) {
      const a = await archiveOf(archiveId);
      const progress = { archiveId, deleted: 0, alreadyGone: 0, changed: 0, failed: 0, failedKeys: [] as string[], remaining: 0, claimed: a.fileCount };
      if (a.status === 'originals_deleted') return progress;
      if (a.status !== 'verified') throw verificationFailed(`archive ${archiveId} of ${label(a)} is ${a.status}, not verified: no original may be deleted`);
      const bucket = a.sourceBucket ?? rawBucket;
      const perRequest = Math.min(1000, Math.max(1, batchKeys));
      return heartbeating(
        () => progress,
        async (signal) => {
          // The zip must still be the object that was verified before any original goes.
          const head = await s3.send(new HeadObjectCommand({ Bucket: a.zipBucket, Key: a.zipKey }), { abortSignal: signal }).catch(nullIfMissing);
          if (!head || head.ETag !== a.zipEtag || head.ContentLength !== a.zippedBytes) {
            throw verificationFailed(`archive ${archiveId} of ${label(a)}: s3://${a.zipBucket}/${a.zipKey} is ${head ? 'no longer the zip that was verified' : 'missing'}; no original deleted`);
          }
          const todo = await store.toDelete(archiveId, maxKeys);
          let startAfter: string | undefined;
          for (let i = 0; i < todo.length; i += perRequest) {
            const batch = todo.slice(i, i + perRequest);
            const last = batch[batch.length - 1]!.key;
            // What is there now, listed from where the previous batch ended up to this batch's last key.
            const now = new Map<string, ListedObject>();
            for (const o of await listPrefix(s3, bucket, a.sourcePrefix, { startAfter, stopAt: (k) => byteOrder(k, last) > 0, signal })) now.set(o.key, o);
            startAfter = last;
            const gone: string[] = [];
            const changed: string[] = [];
            const doomed: { key: string; etag: string }[] = [];
            for (const e of batch) {
              const cur = now.get(e.key);
              if (!cur) gone.push(e.key);
              else if (cur.etag !== e.etag || cur.size !== e.size) changed.push(e.key);
              else doomed.push({ key: e.key, etag: cur.etag });
            }
            const failed: string[] = [];
            const deleted: string[] = [];
            if (doomed.length) {
              const res = await s3.send(
                new DeleteObjectsCommand({
                  Bucket: bucket,
                  // With the ETag, S3 deletes only the version that was zipped (conditional delete).
                  Delete: { Objects: doomed.map((d) => ({ Key: d.key, ...(settings.conditionalDelete && d.etag ? { ETag: d.etag } : {}) })), Quiet: false },
                }),
                { abortSignal: signal },
              );
              for (const d of res.Deleted ?? []) if (d.Key) deleted.push(d.Key);
              for (const err of res.Errors ?? []) {
                if (!err.Key) continue;
                if (err.Code === 'PreconditionFailed') changed.push(err.Key);
                else if (err.Code === 'NoSuchKey') gone.push(err.Key);
                else failed.push(`${err.Key} (${err.Code ?? 'error'}: ${err.Message ?? ''})`);
              }
            }
            await store.markDeleted(archiveId, [...deleted, ...gone]);
            await store.markSuperseded(archiveId, changed, 'changed after it was zipped: kept, not claimed by this archive');
            progress.deleted += deleted.length;
            progress.alreadyGone += gone.length;
            progress.changed += changed.length;
            progress.failed += failed.length;
            progress.failedKeys.push(...failed.slice(0, Math.max(0, 10 - progress.failedKeys.length)));
          }
          Object.assign(progress, await store.finishDeletion(archiveId));
          if (progress.alreadyGone) log.warn('originals already gone at delete time (the zip holds them)', { archiveId, alreadyGone: progress.alreadyGone });
          return progress;
        },
      );
    },

    async abortArchiveUploads({ archiveId }) {
      const a = await store.get(archiveId);
      return a ? abortIncompleteUploads(s3, a.zipBucket, a.zipKey) : 0;
    },

    async scanArchivableTables({ tables: only, asOf, maxPartitions, prices, compressionRatio }) {
      const table = priceTable(prices);
      const at = new Date(asOf);
      if (Number.isNaN(at.getTime())) throw invalid(`asOf ${JSON.stringify(asOf)} is not a date`);
      const all = await controlPlane.listTables();
      const skipped: SkippedPartition[] = [];
      const selected = only ? all.filter((t) => only.includes(nameOf(t))) : all;
      for (const name of only ?? []) if (!all.some((t) => nameOf(t) === name)) skipped.push({ table: name, partition: null, reason: 'not onboarded' });
      const candidates: ArchiveCandidate[] = [];
      let truncated = false;
      const progress = { table: '', candidates: 0 };
      await heartbeating(
        () => progress,
        async (signal) => {
          for (const t of selected) {
            if (candidates.length >= maxPartitions) {
              truncated = true;
              break;
            }
            progress.table = nameOf(t);
            const level = t.archiveLevel;
            const unfinished = new Map((await store.unfinished(t.tableId)).filter((a) => a.level === level).map((a) => [a.partition, a]));
            // Dated keys sort before LOAD files and by date: stop at the first partition too young.
            const groups = new Map<string, ListedObject[]>();
            await listPrefix(s3, rawBucket, tablePrefix(rawTableOf(t)), {
              signal,
              stopAt: (k) => {
                const p = partitionOfKey(k, level);
                return p !== null && !isOldEnough(level, p.partition, at, t.archiveAfterDays);
              },
            }).then((objects) => {
              for (const o of objects) {
                const p = partitionOfKey(o.key, level);
                if (!p) continue;
                const g = groups.get(p.partition) ?? [];
                g.push(o);
                groups.set(p.partition, g);
              }
            });
            for (const partition of new Set([...groups.keys(), ...[...unfinished.keys()].filter((p) => isOldEnough(level, p, at, t.archiveAfterDays))])) {
              if (candidates.length >= maxPartitions) {
                truncated = true;
                break;
              }
              const objects = groups.get(partition) ?? [];
              const open = await unclaimed(t, objects, signal);
              const resume = unfinished.has(partition);
              if (open.length === 0 && !resume) continue;
              const consumed = await store.consumedKeys(t.tableId, open.map((o) => o.key));
              const notConsumed = open.filter((o) => !consumed.has(o.key)).length;
              if (notConsumed > 0 && !resume) {
                skipped.push({ table: nameOf(t), partition, reason: `${notConsumed} of ${open.length} files not yet consumed by the lake` });
                continue;
              }
              const classes = new Set(open.map((o) => o.storageClass));
              const originals = tally(
                open.map((o) => o.size),
                classes.size === 1 ? [...classes][0]! : 'STANDARD',
                table,
              );
              candidates.push({
                table: nameOf(t),
                level,
                partition,
                files: open.length,
                bytes: originals.bytes,
                resume,
                estimate: estimateArchive({ originals, compressionRatio }, table),
              });
              progress.candidates = candidates.length;
            }
          }
        },
      );
      candidates.sort((x, y) => x.table.localeCompare(y.table) || x.partition.localeCompare(y.partition));
      return { asOf: at.toISOString(), candidates, skipped, truncated, estimate: sumEstimates(candidates.map((c) => c.estimate), table.currency) };
    },

    async measureArchiveStorage({ partitions, prices }) {
      const table = priceTable(prices);
      const sizes = new Map<string, number[]>();
      const add = (cls: string, size: number) => {
        const s = sizes.get(cls) ?? [];
        s.push(size);
        sizes.set(cls, s);
      };
      const progress = { measured: 0 };
      await heartbeating(
        () => progress,
        async (signal) => {
          const tables = new Map<string, TableRecord>();
          for (const p of partitions) {
            const t = tables.get(p.table) ?? (await tableOf(p.table));
            tables.set(p.table, t);
            for (const o of (await listPartition(t, p.level, p.partition, signal)).objects) add(o.storageClass, o.size);
            // The partition's zips, every generation: <partition>.zip, <partition>.g1.zip, ...
            const zipPrefix = zipKeyFor(rawTableOf(t), p.level, p.partition, 0).replace(/\.zip$/, '');
            for (const o of await listPrefix(s3, archiveBucket, zipPrefix, { signal })) if (/^(\.g\d+)?\.zip$/.test(o.key.slice(zipPrefix.length))) add(o.storageClass, o.size);
            progress.measured++;
          }
        },
      );
      const tallies: Tally[] = [...sizes].map(([cls, s]) => tally(s, cls, table));
      const measure: StorageMeasure = { tallies, monthlyCost: monthlyStorageCost(tallies, table), currency: table.currency };
      return measure;
    },

    async recordArchiveRun({ runId, dryRun, asOf, scan, before, after, outcomes }) {
      await store.recordRun({
        runId,
        dryRun,
        asOf,
        partitions: scan.candidates.length,
        archived: outcomes.filter((o) => o.outcome === 'archived').length,
        files: outcomes.reduce((n, o) => n + o.files, 0),
        originalBytes: outcomes.reduce((n, o) => n + o.originalBytes, 0),
        zippedBytes: outcomes.reduce((n, o) => n + o.zipBytes, 0),
        estimate: { total: scan.estimate, skipped: scan.skipped, truncated: scan.truncated },
        measuredBefore: before ?? {},
        measuredAfter: after ?? {},
        monthlyCostBefore: before?.monthlyCost ?? null,
        monthlyCostAfter: after?.monthlyCost ?? null,
        outcomes,
      });
    },

    async findArchivesToRecover({ table: key, startDate, endDate }) {
      try {
        checkDate('startDate', startDate);
        checkDate('endDate', endDate);
      } catch (err) {
        throw invalid((err as Error).message);
      }
      if (startDate > endDate) throw invalid(`startDate ${startDate} is after endDate ${endDate}`);
      const t = await tableOf(key);
      const found = await store.archivesForRange(t.tableId, startDate, endDate);
      return {
        targetBucket: rawBucket,
        archives: found
          .filter((a) => partitionOverlaps(a.level, a.partition, startDate, endDate))
          .map((a) => ({ archiveId: a.archiveId, level: a.level, partition: a.partition, generation: a.generation, zipBucket: a.zipBucket, zipKey: a.zipKey, files: a.filesInRange, bytes: a.bytesInRange })),
      };
    },

    async recoverArchiveEntries({ archiveId, startDate, endDate, targetBucket, targetPrefix, concurrency }) {
      const a = await archiveOf(archiveId);
      if (!VERIFIED_STATUSES.includes(a.status)) throw invalid(`archive ${archiveId} of ${label(a)} is ${a.status}, not verified: nothing to recover from it`);
      const entries = await store.entriesForRecovery(archiveId, startDate, endDate);
      const progress = { archiveId, done: 0, of: entries.length };
      return heartbeating(
        () => progress,
        async (signal) => {
          // Not pinned to the verified ETag: a replaced zip is still read, and every entry's CRC-32
          // decides whether it is the file that was archived.
          const reader = await s3RangeReader(s3, a.zipBucket, a.zipKey, undefined, signal);
          const r = await recoverEntries({
            s3,
            reader,
            entries: entries.map((e) => ({ name: e.key, offset: e.offset ?? 0, compressedSize: e.compressedSize ?? 0, size: e.size, crc32: e.crc32 ?? 0, method: e.method ?? 8, etag: e.etag })),
            targetBucket,
            targetPrefix,
            sse: targetBucket === rawBucket ? settings.rawSse : undefined,
            concurrency,
            onProgress: (n) => (progress.done = n),
            signal,
          });
          if (r.corrupt) log.warn('archive entries failed their checks', { archiveId, corrupt: r.corrupt, keys: r.corruptKeys });
          return { archiveId, partition: a.partition, files: entries.length, ...r, zipChanged: reader.etag !== a.zipEtag };
        },
      );
    },
  };
}
