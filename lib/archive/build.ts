// Streaming a partition's objects into a zip without staging them: a window of GETs runs ahead of
// the writer (bounded in count and bytes), each small object is CRC'd and deflated on the libuv
// thread pool as soon as it arrives, and the writer takes them in key order and hands the bytes to
// its sink (the multipart upload), whose pace holds everything back. Objects too large to hold are
// streamed through deflate at their turn. Peak memory is about the window plus the upload's parts,
// whatever the partition's size; the central directory (about 110 bytes per entry) is the only
// thing that grows with the number of files.
//
// Every GET carries If-Match with the listed ETag: an object that changed since it was listed is
// left out of the zip (and so never claimed or deleted); one that vanished is left out too.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { setMaxListeners } from 'node:events';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { bodyChunks, isNotFound, isPreconditionFailed, readBody } from './s3';
import { crc32, METHOD_DEFLATE, METHOD_STORED, ZipWriter, type PreparedEntry, type WrittenEntry, type ZipSink, type ZipSummary, type ZipWriterOptions } from './zip';

const deflateRaw = promisify(zlib.deflateRaw);

export interface SourceObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export type BuiltEntry = ({ state: 'zipped'; key: string } & Omit<WrittenEntry, 'name'>) | { state: 'skipped'; key: string; reason: string };

export interface BuildZipOptions extends ZipWriterOptions {
  s3: S3Client;
  bucket: string;
  /** In the order they go into the zip (the caller sorts: key order makes the zip deterministic). */
  objects: readonly SourceObject[];
  sink: ZipSink;
  /** GETs running ahead of the writer. Default 16. */
  concurrency?: number;
  /** Bytes of listed objects the window may hold at once. Default 32 MiB. */
  windowBytes?: number;
  /** Objects larger than this are streamed through deflate rather than held. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Called after each entry (the activity throttles it into heartbeats). */
  onProgress?: (done: number, bytesRead: number) => void;
  signal?: AbortSignal;
}

type Prepared = { kind: 'ready'; entry: PreparedEntry } | { kind: 'large' } | { kind: 'skip'; reason: string } | { kind: 'error'; error: unknown };

export async function buildZip(o: BuildZipOptions): Promise<{ summary: ZipSummary; entries: BuiltEntry[] }> {
  const writer = new ZipWriter(o.sink, o);
  const concurrency = o.concurrency ?? 16;
  const windowBytes = o.windowBytes ?? 32 * 1024 * 1024;
  const maxBuffered = o.maxBufferedBytes ?? 8 * 1024 * 1024;
  const level = o.level ?? 6;
  // In-flight GETs are cancelled when the build fails, so nothing keeps running behind a failure.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const onOuterAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onOuterAbort);

  const prepare = async (obj: SourceObject): Promise<Prepared> => {
    if (obj.size > maxBuffered) return { kind: 'large' };
    try {
      const res = await o.s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: obj.key, IfMatch: obj.etag || undefined }), { abortSignal: stop.signal });
      const data = await readBody(res.Body);
      if (data.length !== obj.size) return { kind: 'skip', reason: `changed since listing: ${data.length} bytes, listed ${obj.size}` };
      const crc = crc32(data);
      const deflated = data.length > 0 ? await deflateRaw(data, { level }) : Buffer.alloc(0);
      // Already-compressed data (snappy Parquet) may not shrink: store it rather than grow it.
      const entry: PreparedEntry =
        deflated.length < data.length
          ? { name: obj.key, mtime: obj.lastModified, method: METHOD_DEFLATE, crc32: crc, size: data.length, data: deflated }
          : { name: obj.key, mtime: obj.lastModified, method: METHOD_STORED, crc32: crc, size: data.length, data };
      return { kind: 'ready', entry };
    } catch (err) {
      if (isNotFound(err)) return { kind: 'skip', reason: 'missing at build: deleted since listing' };
      if (isPreconditionFailed(err)) return { kind: 'skip', reason: 'changed since listing (ETag)' };
      return { kind: 'error', error: err };
    }
  };

  const window: (Promise<Prepared> | undefined)[] = new Array<Promise<Prepared> | undefined>(o.objects.length);
  let launched = 0;
  let windowHeld = 0;
  const entries: BuiltEntry[] = [];
  let bytesRead = 0;
  try {
    for (let i = 0; i < o.objects.length; i++) {
      // Keep the window full: at least the current entry, up to `concurrency` ahead and `windowBytes` held.
      while (launched < o.objects.length && (launched === i || (launched - i < concurrency && windowHeld < windowBytes))) {
        const obj = o.objects[launched]!;
        if (obj.size <= maxBuffered) windowHeld += obj.size;
        window[launched] = prepare(obj);
        launched++;
      }
      const obj = o.objects[i]!;
      const prepared = await window[i]!;
      window[i] = undefined;
      if (obj.size <= maxBuffered) windowHeld -= obj.size;
      if (prepared.kind === 'error') throw prepared.error;
      if (prepared.kind === 'skip') {
        entries.push({ state: 'skipped', key: obj.key, reason: prepared.reason });
      } else if (prepared.kind === 'ready') {
        const { name: _name, ...written } = await writer.addPrepared(prepared.entry);
        entries.push({ state: 'zipped', key: obj.key, ...written });
        bytesRead += obj.size;
      } else {
        const streamed = await streamLarge(o, writer, obj, stop.signal);
        if ('reason' in streamed) {
          entries.push({ state: 'skipped', key: obj.key, reason: streamed.reason });
        } else {
          const { name: _name, ...written } = streamed;
          entries.push({ state: 'zipped', key: obj.key, ...written });
          bytesRead += obj.size;
        }
      }
      o.onProgress?.(i + 1, bytesRead);
    }
    const summary = await writer.finish();
    return { summary, entries };
  } finally {
    stop.abort();
    o.signal?.removeEventListener('abort', onOuterAbort);
    // Settle what is still in the window (their results are dropped; none of them rejects).
    await Promise.all(window.filter((p): p is Promise<Prepared> => p !== undefined));
  }
}

async function streamLarge(o: BuildZipOptions, writer: ZipWriter, obj: SourceObject, signal: AbortSignal): Promise<WrittenEntry | { reason: string }> {
  let body: unknown;
  try {
    const res = await o.s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: obj.key, IfMatch: obj.etag || undefined }), { abortSignal: signal });
    body = res.Body;
  } catch (err) {
    if (isNotFound(err)) return { reason: 'missing at build: deleted since listing' };
    if (isPreconditionFailed(err)) return { reason: 'changed since listing (ETag)' };
    throw err;
  }
  const written = await writer.addStreamed({ name: obj.key, mtime: obj.lastModified, expectedSize: obj.size, source: bodyChunks(body) });
  // If-Match pinned the version, so a different length means a broken transfer: fail the build.
  if (written.size !== obj.size) throw new Error(`s3://${o.bucket}/${obj.key}: read ${written.size} bytes, listed ${obj.size}`);
  return written;
}
