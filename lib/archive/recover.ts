// Putting archived files back: the entries are read out of the zip by range (lib/archive/extract),
// checked against their recorded size and CRC-32, and uploaded as STANDARD objects to their original
// keys (or under a prefix), with the CRC-32 as the object's S3 checksum so the store verifies the
// bytes it received. Idempotent: a target that already holds the same bytes is left alone; one that
// holds different bytes is never overwritten (it is reported as a conflict); uploads use
// If-None-Match so a racing writer is not overwritten either.
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { extractEntries, type ExtractTarget } from './extract';
import { MultipartUpload, sseParams, type ServerSideEncryption } from './multipart';
import { isPreconditionFailed, listPrefix, type ListedObject } from './s3';
import { crc32Base64, type RangeReader } from './zip';

export interface RecoverableEntry extends ExtractTarget {
  /** The original's ETag when it was archived: a target with this ETag is the original itself. */
  etag: string | null;
  /** Where the entry goes back to when not under its own name: a file archived before raw keys had a `<source>/` prefix returns under it. */
  restoreAs?: string;
}

export interface RecoverOptions {
  s3: S3Client;
  reader: RangeReader;
  entries: readonly RecoverableEntry[];
  targetBucket: string;
  /** Prepended to each entry's name (its original key). Default '' (the original key). */
  targetPrefix?: string;
  sse?: ServerSideEncryption;
  /** Uploads at once. Default 8. */
  concurrency?: number;
  onProgress?: (done: number) => void;
  signal?: AbortSignal;
}

export interface RecoverResult {
  recovered: number;
  skippedExisting: number;
  conflicts: number;
  corrupt: number;
  bytes: number;
  /** Targets listed afterwards with the archived size (the CRC-32 was checked by the store on upload). */
  verified: number;
  /** Up to 20 of each, for the report. */
  conflictKeys: string[];
  corruptKeys: string[];
  unverifiedKeys: string[];
}

const SAMPLE = 20;

function commonPrefix(keys: readonly string[]): string {
  if (keys.length === 0) return '';
  let p = keys[0]!;
  for (const k of keys) while (!k.startsWith(p)) p = p.slice(0, -1);
  // List from the last '/' so a partial file name does not narrow the listing oddly.
  return p.slice(0, p.lastIndexOf('/') + 1);
}

export async function recoverEntries(o: RecoverOptions): Promise<RecoverResult> {
  const prefix = o.targetPrefix ?? '';
  const result: RecoverResult = { recovered: 0, skippedExisting: 0, conflicts: 0, corrupt: 0, bytes: 0, verified: 0, conflictKeys: [], corruptKeys: [], unverifiedKeys: [] };
  // Entries whose target holds (or now holds) the archived bytes: checked again at the end.
  const placed: RecoverableEntry[] = [];
  const target = (e: RecoverableEntry) => `${prefix}${e.restoreAs ?? e.name}`;
  let done = 0;
  const progress = () => o.onProgress?.(++done);

  const conflict = (key: string) => {
    result.conflicts++;
    if (result.conflictKeys.length < SAMPLE) result.conflictKeys.push(key);
  };

  // Same bytes already there? Size first (from the listing), then the original's ETag or the
  // object's stored CRC-32 (recovered objects carry one).
  const sameAs = async (e: RecoverableEntry, existing: Pick<ListedObject, 'size' | 'etag'>): Promise<boolean> => {
    if (existing.size !== e.size) return false;
    if (e.etag && existing.etag === e.etag) return true;
    const head = await o.s3.send(new HeadObjectCommand({ Bucket: o.targetBucket, Key: target(e), ChecksumMode: 'ENABLED' }), { abortSignal: o.signal });
    return head.ChecksumCRC32 === crc32Base64(e.crc32);
  };

  const present = new Map<string, ListedObject>();
  if (o.entries.length === 0) return result;
  for (const obj of await listPrefix(o.s3, o.targetBucket, commonPrefix(o.entries.map(target)), { signal: o.signal })) present.set(obj.key, obj);
  const todo: RecoverableEntry[] = [];
  for (const e of o.entries) {
    const existing = present.get(target(e));
    if (!existing) todo.push(e);
    else if (await sameAs(e, existing)) {
      result.skippedExisting++;
      placed.push(e);
      progress();
    } else {
      conflict(target(e));
      progress();
    }
  }

  const afterRace = async (e: RecoverableEntry): Promise<void> => {
    // Someone put the key between our listing and our upload: keep theirs, say whether it matches.
    const head = await o.s3.send(new HeadObjectCommand({ Bucket: o.targetBucket, Key: target(e) }), { abortSignal: o.signal });
    if (await sameAs(e, { size: head.ContentLength ?? -1, etag: head.ETag ?? '' })) {
      result.skippedExisting++;
      placed.push(e);
    } else conflict(target(e));
  };

  await extractEntries(
    o.reader,
    todo,
    async (x) => {
      const e = x.entry;
      try {
        if ('data' in x) {
          await o.s3.send(
            new PutObjectCommand({
              Bucket: o.targetBucket,
              Key: target(e),
              Body: x.data,
              ContentLength: x.data.length,
              StorageClass: 'STANDARD',
              ChecksumCRC32: crc32Base64(e.crc32),
              IfNoneMatch: '*',
              ...sseParams(o.sse),
            }),
            { abortSignal: o.signal },
          );
        } else {
          // Large entries stream through a multipart upload; a corrupt stream throws and aborts it.
          const upload = await MultipartUpload.start({ s3: o.s3, bucket: o.targetBucket, key: target(e), storageClass: 'STANDARD', sse: o.sse, abortSignal: o.signal });
          try {
            for await (const chunk of x.stream) await upload.write(chunk);
            await upload.complete();
          } catch (err) {
            await upload.abort();
            throw err;
          }
        }
        result.recovered++;
        result.bytes += e.size;
        placed.push(e);
      } catch (err) {
        if (isPreconditionFailed(err)) await afterRace(e);
        else throw err;
      }
      progress();
    },
    (e) => {
      result.corrupt++;
      if (result.corruptKeys.length < SAMPLE) result.corruptKeys.push(e.name);
      progress();
    },
    { concurrency: o.concurrency ?? 8 },
  );

  // The check after the fact: every placed target is listed with the archived size.
  const after = new Map<string, ListedObject>();
  if (placed.length === 0) return result;
  for (const obj of await listPrefix(o.s3, o.targetBucket, commonPrefix(placed.map(target)), { signal: o.signal })) after.set(obj.key, obj);
  for (const e of placed) {
    if (after.get(target(e))?.size === e.size) result.verified++;
    else if (result.unverifiedKeys.length < SAMPLE) result.unverifiedKeys.push(target(e));
  }
  return result;
}
