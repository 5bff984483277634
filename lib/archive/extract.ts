// Reading entries back out of a zip by byte range, without downloading the zip: entries next to
// each other are fetched together in spans of at most `maxSpanBytes` (a day's CDC files sit side by
// side, so recovering a day is a handful of GETs, not one per file), each is inflated and checked
// against its recorded size and CRC-32. Entries too large to hold are streamed through inflate and
// checked at their end. Used by recovery (to upload entries back) and by deep verification.
import { once } from 'node:events';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Limiter } from './limit';
import { crc32, localHeaderAllowance, METHOD_DEFLATE, METHOD_STORED, parseLocalHeader, ZipFormatError, type RangeReader } from './zip';

const inflateRaw = promisify(zlib.inflateRaw) as (buf: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;

export interface ExtractTarget {
  name: string;
  offset: number;
  compressedSize: number;
  size: number;
  crc32: number;
  method: number;
}

export type Extracted<E> = { entry: E; data: Buffer } | { entry: E; stream: AsyncIterable<Buffer> };

export interface ExtractOptions {
  /** Largest ranged GET. Default 8 MiB. */
  maxSpanBytes?: number;
  /** Entries further apart than this are not fetched in one span. Default 256 KiB. */
  maxGapBytes?: number;
  /** Spans fetched at once. Default 2. */
  spanConcurrency?: number;
  /** Handler calls (e.g. uploads) running at once. Default 8. */
  concurrency?: number;
  /** Entries larger than this (either size) are streamed. Default 8 MiB. */
  maxBufferedBytes?: number;
}

interface Span<E> {
  start: number;
  end: number;
  entries: E[];
}

function checkMethod(e: ExtractTarget): void {
  if (e.method !== METHOD_DEFLATE && e.method !== METHOD_STORED) throw new ZipFormatError(`${e.name}: compression method ${e.method} is not one Danau writes`);
}

async function inflateChecked(e: ExtractTarget, stored: Buffer): Promise<Buffer> {
  checkMethod(e);
  let data: Buffer;
  if (e.method === METHOD_STORED) {
    data = stored;
  } else {
    try {
      // Cap the output: a corrupted stream must not inflate into something huge.
      data = await inflateRaw(stored, { maxOutputLength: Math.max(1, e.size + 1) });
    } catch (err) {
      throw new ZipFormatError(`${e.name}: does not inflate (${(err as Error).message})`);
    }
  }
  if (data.length !== e.size) throw new ZipFormatError(`${e.name}: ${data.length} bytes inflated, ${e.size} recorded`);
  const crc = crc32(data);
  if (crc !== e.crc32 >>> 0) throw new ZipFormatError(`${e.name}: CRC-32 ${crc.toString(16)} does not match the recorded ${(e.crc32 >>> 0).toString(16)}`);
  return data;
}

/** One entry's bytes, streamed from a ranged read and checked when the stream ends (it throws then). */
async function* streamEntry(reader: RangeReader, e: ExtractTarget, chunkBytes: number): AsyncGenerator<Buffer> {
  checkMethod(e);
  const head = await reader.read(e.offset, Math.min(reader.size, e.offset + localHeaderAllowance(e.name)));
  const { dataStart } = parseLocalHeader(head, e.name);
  const start = e.offset + dataStart;
  const end = start + e.compressedSize;
  if (end > reader.size) throw new ZipFormatError(`${e.name}: data runs past the end of the zip`);
  let crc = 0;
  let size = 0;
  const account = (b: Buffer) => {
    crc = crc32(b, crc);
    size += b.length;
    if (size > e.size) throw new ZipFormatError(`${e.name}: more than the recorded ${e.size} bytes`);
  };
  if (e.method === METHOD_STORED) {
    for (let p = start; p < end; p += chunkBytes) {
      const b = await reader.read(p, Math.min(end, p + chunkBytes));
      account(b);
      yield b;
    }
  } else {
    const inflate = zlib.createInflateRaw();
    const stop = new AbortController();
    const feeding = (async () => {
      for (let p = start; p < end && !stop.signal.aborted; p += chunkBytes) {
        const b = await reader.read(p, Math.min(end, p + chunkBytes));
        if (!inflate.write(b)) await once(inflate, 'drain', { signal: stop.signal });
      }
      inflate.end();
    })().catch((err: unknown) => {
      if (!stop.signal.aborted) inflate.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    try {
      for await (const out of inflate as AsyncIterable<Buffer>) {
        account(out);
        yield out;
      }
    } catch (err) {
      if (err instanceof ZipFormatError) throw err;
      throw new ZipFormatError(`${e.name}: does not inflate (${(err as Error).message})`);
    } finally {
      stop.abort();
      inflate.destroy();
      await feeding;
    }
  }
  if (size !== e.size) throw new ZipFormatError(`${e.name}: ${size} bytes inflated, ${e.size} recorded`);
  if (crc !== e.crc32 >>> 0) throw new ZipFormatError(`${e.name}: CRC-32 ${crc.toString(16)} does not match the recorded ${(e.crc32 >>> 0).toString(16)}`);
}

/**
 * Extracts `entries` and calls `handle` with each one's checked bytes. An entry that fails its
 * checks goes to `onCorrupt` (the others go on); any other error (a failed read, a failed handler)
 * rejects once the running work settles.
 */
export async function extractEntries<E extends ExtractTarget>(
  reader: RangeReader,
  entries: readonly E[],
  handle: (x: Extracted<E>) => Promise<void>,
  onCorrupt: (entry: E, err: ZipFormatError) => Promise<void> | void,
  options: ExtractOptions = {},
): Promise<void> {
  const maxSpan = options.maxSpanBytes ?? 8 * 1024 * 1024;
  const maxGap = options.maxGapBytes ?? 256 * 1024;
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const spans: Span<E>[] = [];
  const large: E[] = [];
  for (const e of [...entries].sort((a, b) => a.offset - b.offset)) {
    const end = Math.min(reader.size, e.offset + localHeaderAllowance(e.name) + e.compressedSize);
    if (e.size > maxBuffered || e.compressedSize > maxBuffered || end - e.offset > maxSpan) {
      large.push(e);
      continue;
    }
    const last = spans[spans.length - 1];
    if (last && e.offset - last.end <= maxGap && end - last.start <= maxSpan) {
      last.entries.push(e);
      last.end = Math.max(last.end, end);
    } else {
      spans.push({ start: e.offset, end, entries: [e] });
    }
  }

  const handlers = new Limiter(options.concurrency ?? 8);
  const spanLimiter = new Limiter(options.spanConcurrency ?? 2);
  let failure: { err: unknown } | undefined;
  const guard = async (entry: E, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      if (err instanceof ZipFormatError) await onCorrupt(entry, err);
      else failure ??= { err };
    }
  };

  const spanTasks = spans.map((span) =>
    spanLimiter.run(async () => {
      if (failure) return;
      let buf: Buffer;
      try {
        buf = await reader.read(span.start, span.end);
      } catch (err) {
        failure ??= { err };
        return;
      }
      const running: Promise<void>[] = [];
      for (const e of span.entries) {
        if (failure) break;
        const rel = e.offset - span.start;
        running.push(
          handlers.run(() =>
            guard(e, async () => {
              const { dataStart } = parseLocalHeader(buf.subarray(rel), e.name);
              const from = rel + dataStart;
              // A local header with more extra bytes than allowed for: read this entry on its own.
              const stored = from + e.compressedSize <= buf.length ? buf.subarray(from, from + e.compressedSize) : await reader.read(span.start + from, span.start + from + e.compressedSize);
              const data = await inflateChecked(e, stored);
              await handle({ entry: e, data });
            }),
          ),
        );
      }
      await Promise.all(running);
    }),
  );
  const largeTasks = large.map((e) => spanLimiter.run(() => (failure ? Promise.resolve() : guard(e, () => handle({ entry: e, stream: streamEntry(reader, e, maxSpan) })))));
  await Promise.all([...spanTasks, ...largeTasks]);
  if (failure) throw failure.err;
}
