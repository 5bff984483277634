// The zip format as Danau writes and reads it (PKWARE APPNOTE 6.3.x): local headers, data
// descriptors, the central directory, and the zip64 end records. Written by hand rather than with a
// library because the archive pipeline needs things zip libraries keep private or do slowly:
//   - the writer must report each entry's offset, sizes and CRC-32 as it writes them (the manifest
//     and the ranged recovery are built on them), take entries already deflated by a parallel
//     pipeline, and await its sink so an S3 multipart upload sets the pace (bounded memory);
//   - the reader must work on byte ranges of an S3 object and fetch the central directory in a few
//     large ranged GETs (yauzl's random-access reader issues a read per record field);
//   - the output must be byte-for-byte deterministic (fixed order, times from the objects), so a
//     rerun after a crash rewrites the same zip at the same key.
// Zip64 records are written when a count, size or offset does not fit the classic fields (more than
// 65,534 entries, 4 GiB), or always with `forceZip64` (how tests exercise the zip64 path cheaply).
import { once } from 'node:events';
import zlib from 'node:zlib';

export const SIGNATURE = {
  local: 0x04034b50,
  central: 0x02014b50,
  descriptor: 0x08074b50,
  eocd: 0x06054b50,
  zip64Eocd: 0x06064b50,
  zip64Locator: 0x07064b50,
} as const;

export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
export type CompressionMethod = typeof METHOD_STORED | typeof METHOD_DEFLATE;

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const ZIP64_EXTRA = 0x0001;
// Version made by: 3 (Unix) << 8 | 45 (4.5, zip64). Needed: 2.0 (deflate) or 4.5 (zip64).
const MADE_BY = (3 << 8) | 45;
const NEEDS_DEFLATE = 20;
const NEEDS_ZIP64 = 45;
// Regular file, rw-r--r--, in the Unix part of the external attributes.
const EXTERNAL_ATTRS = (0o100644 << 16) >>> 0;
const LOCAL_HEADER_FIXED = 30;
const CENTRAL_HEADER_FIXED = 46;
const EOCD_FIXED = 22;
const ZIP64_EOCD_FIXED = 56;
const ZIP64_LOCATOR = 20;
/** The most a reader fetches from the end to find the end records (a comment is at most 64 KiB). */
export const MAX_TAIL = EOCD_FIXED + U16_MAX + ZIP64_LOCATOR + ZIP64_EOCD_FIXED;

/** The zip is not what it claims to be: a broken record, a size or CRC that does not match. */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

// zlib.crc32 is in Node >= 20.15; the table is the fallback for older 20.x.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let table: Uint32Array | undefined;
/** CRC-32 (ISO-HDLC, the zip and S3 CRC32), continuing from `previous`. */
export function crc32(data: Uint8Array, previous = 0): number {
  if (nativeCrc32) return nativeCrc32(data, previous);
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = (previous ^ U32_MAX) >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ U32_MAX) >>> 0;
}

/** The CRC-32 as S3 writes it in x-amz-checksum-crc32: base64 of the big-endian 4 bytes. */
export function crc32Base64(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString('base64');
}

/** MS-DOS date and time (2-second resolution, no zone: UTC is written). Before 1980 is 1980-01-01. */
export function dosDateTime(d: Date): { date: number; time: number } {
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1980) return { date: (0 << 9) | (1 << 5) | 1, time: 0 };
  const year = Math.min(d.getUTCFullYear(), 2107);
  return {
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  };
}

export function fromDosDateTime(date: number, time: number): Date {
  return new Date(Date.UTC(1980 + (date >> 9), ((date >> 5) & 0xf) - 1, date & 0x1f, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2));
}

function writeU64(b: Buffer, value: number, at: number): void {
  b.writeBigUInt64LE(BigInt(value), at);
}

function readU64(b: Buffer, at: number): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`a zip64 field holds ${v}, beyond what this reader handles`);
  return Number(v);
}

/** Where the writer sends bytes. `write` resolving is what lets the writer go on (backpressure). */
export interface ZipSink {
  write(chunk: Buffer): Promise<void>;
}

/** One entry as written: what the manifest records and what ranged recovery needs. */
export interface WrittenEntry {
  name: string;
  method: CompressionMethod;
  crc32: number;
  size: number;
  compressedSize: number;
  /** Offset of the entry's local header in the zip. */
  offset: number;
}

/** An entry whose bytes were read and (maybe) compressed before its turn: no data descriptor needed. */
export interface PreparedEntry {
  name: string;
  mtime: Date;
  method: CompressionMethod;
  crc32: number;
  size: number;
  /** The bytes as stored: deflated for METHOD_DEFLATE, the original for METHOD_STORED. */
  data: Buffer;
}

export interface ZipWriterOptions {
  /** Write zip64 records for every entry and the end of the directory, whatever the sizes. */
  forceZip64?: boolean;
  /** The archive comment (at most 65,535 bytes of UTF-8). */
  comment?: string;
  /** Deflate level for streamed entries (prepared entries are compressed by the caller). */
  level?: number;
}

export interface ZipSummary {
  bytes: number;
  entries: number;
  centralDirectoryOffset: number;
  centralDirectorySize: number;
  zip64: boolean;
}

/**
 * A streaming zip writer: entries are written in the order they are added; only the central
 * directory records (about 46 bytes plus the name per entry) are kept until `finish`.
 */
export class ZipWriter {
  private offset = 0;
  private readonly central: Buffer[] = [];
  private centralSize = 0;
  private finished = false;

  constructor(
    private readonly sink: ZipSink,
    private readonly options: ZipWriterOptions = {},
  ) {}

  get bytesWritten(): number {
    return this.offset;
  }

  get entryCount(): number {
    return this.central.length;
  }

  private async emit(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.offset += chunk.length;
    await this.sink.write(chunk);
  }

  /** Adds an entry whose CRC, sizes and stored bytes are already known. */
  async addPrepared(e: PreparedEntry): Promise<WrittenEntry> {
    this.assertOpen();
    const name = Buffer.from(e.name, 'utf8');
    const zip64 = this.options.forceZip64 === true || e.size >= U32_MAX || e.data.length >= U32_MAX;
    const offset = this.offset;
    const extra = zip64 ? zip64Extra([e.size, e.data.length]) : Buffer.alloc(0);
    const { date, time } = dosDateTime(e.mtime);
    const header = Buffer.alloc(LOCAL_HEADER_FIXED);
    header.writeUInt32LE(SIGNATURE.local, 0);
    header.writeUInt16LE(zip64 ? NEEDS_ZIP64 : NEEDS_DEFLATE, 4);
    header.writeUInt16LE(FLAG_UTF8, 6);
    header.writeUInt16LE(e.method, 8);
    header.writeUInt16LE(time, 10);
    header.writeUInt16LE(date, 12);
    header.writeUInt32LE(e.crc32 >>> 0, 14);
    header.writeUInt32LE(zip64 ? U32_MAX : e.data.length, 18);
    header.writeUInt32LE(zip64 ? U32_MAX : e.size, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(extra.length, 28);
    await this.emit(Buffer.concat([header, name, extra]));
    await this.emit(e.data);
    const written: WrittenEntry = { name: e.name, method: e.method, crc32: e.crc32 >>> 0, size: e.size, compressedSize: e.data.length, offset };
    this.addCentral(written, FLAG_UTF8, date, time, name);
    return written;
  }

  /**
   * Adds an entry by streaming it through deflate (for entries too large to hold): the local header
   * carries no CRC or sizes, a data descriptor after the data does. `expectedSize` (from the
   * listing) decides whether the entry needs zip64 sizes; the actual size must not pass 4 GiB
   * without it.
   */
  async addStreamed(e: { name: string; mtime: Date; expectedSize: number; source: AsyncIterable<Buffer> }): Promise<WrittenEntry> {
    this.assertOpen();
    const name = Buffer.from(e.name, 'utf8');
    // Deflate can grow incompressible data a little: leave room before the 32-bit limit.
    const zip64 = this.options.forceZip64 === true || e.expectedSize >= U32_MAX - 16 * 1024 * 1024;
    const offset = this.offset;
    const flags = FLAG_UTF8 | FLAG_DESCRIPTOR;
    const extra = zip64 ? zip64Extra([0, 0]) : Buffer.alloc(0);
    const { date, time } = dosDateTime(e.mtime);
    const header = Buffer.alloc(LOCAL_HEADER_FIXED);
    header.writeUInt32LE(SIGNATURE.local, 0);
    header.writeUInt16LE(zip64 ? NEEDS_ZIP64 : NEEDS_DEFLATE, 4);
    header.writeUInt16LE(flags, 6);
    header.writeUInt16LE(METHOD_DEFLATE, 8);
    header.writeUInt16LE(time, 10);
    header.writeUInt16LE(date, 12);
    // CRC and sizes are zero here and follow in the data descriptor (general purpose bit 3).
    header.writeUInt32LE(0, 14);
    header.writeUInt32LE(zip64 ? U32_MAX : 0, 18);
    header.writeUInt32LE(zip64 ? U32_MAX : 0, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(extra.length, 28);
    await this.emit(Buffer.concat([header, name, extra]));

    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    const deflate = zlib.createDeflateRaw({ level: this.options.level ?? 6 });
    // Feed the source into deflate while the loop below drains it into the sink; whichever side
    // fails first tears the other down (`stop` ends a feeder waiting for 'drain' that never comes).
    const stop = new AbortController();
    const feeding = (async () => {
      for await (const chunk of e.source) {
        if (stop.signal.aborted) return;
        crc = crc32(chunk, crc);
        size += chunk.length;
        if (!deflate.write(chunk)) await once(deflate, 'drain', { signal: stop.signal });
      }
      deflate.end();
    })().catch((err: unknown) => {
      if (!stop.signal.aborted) deflate.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    try {
      for await (const out of deflate as AsyncIterable<Buffer>) {
        compressedSize += out.length;
        await this.emit(out);
      }
    } finally {
      stop.abort();
      deflate.destroy();
      await feeding;
    }
    if (!zip64 && (size >= U32_MAX || compressedSize >= U32_MAX)) {
      throw new ZipFormatError(`${e.name}: ${size} bytes, listed as ${e.expectedSize}: too large for an entry written without zip64`);
    }
    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(SIGNATURE.descriptor, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    if (zip64) {
      writeU64(descriptor, compressedSize, 8);
      writeU64(descriptor, size, 16);
    } else {
      descriptor.writeUInt32LE(compressedSize, 8);
      descriptor.writeUInt32LE(size, 12);
    }
    await this.emit(descriptor);
    const written: WrittenEntry = { name: e.name, method: METHOD_DEFLATE, crc32: crc >>> 0, size, compressedSize, offset };
    this.addCentral(written, flags, date, time, name);
    return written;
  }

  private addCentral(e: WrittenEntry, flags: number, date: number, time: number, name: Buffer): void {
    const force = this.options.forceZip64 === true;
    const big = { size: force || e.size >= U32_MAX, compressed: force || e.compressedSize >= U32_MAX, offset: force || e.offset >= U32_MAX };
    const fields = [...(big.size ? [e.size] : []), ...(big.compressed ? [e.compressedSize] : []), ...(big.offset ? [e.offset] : [])];
    const extra = fields.length ? zip64Extra(fields) : Buffer.alloc(0);
    const h = Buffer.alloc(CENTRAL_HEADER_FIXED);
    h.writeUInt32LE(SIGNATURE.central, 0);
    h.writeUInt16LE(MADE_BY, 4);
    h.writeUInt16LE(fields.length || force ? NEEDS_ZIP64 : NEEDS_DEFLATE, 6);
    h.writeUInt16LE(flags, 8);
    h.writeUInt16LE(e.method, 10);
    h.writeUInt16LE(time, 12);
    h.writeUInt16LE(date, 14);
    h.writeUInt32LE(e.crc32 >>> 0, 16);
    h.writeUInt32LE(big.compressed ? U32_MAX : e.compressedSize, 20);
    h.writeUInt32LE(big.size ? U32_MAX : e.size, 24);
    h.writeUInt16LE(name.length, 28);
    h.writeUInt16LE(extra.length, 30);
    h.writeUInt16LE(0, 32); // comment
    h.writeUInt16LE(0, 34); // disk
    h.writeUInt16LE(0, 36); // internal attributes
    h.writeUInt32LE(EXTERNAL_ATTRS, 38);
    h.writeUInt32LE(big.offset ? U32_MAX : e.offset, 42);
    const record = Buffer.concat([h, name, extra]);
    this.central.push(record);
    this.centralSize += record.length;
  }

  /** Writes the central directory and the end records. The writer is done after this. */
  async finish(): Promise<ZipSummary> {
    this.assertOpen();
    this.finished = true;
    const cdOffset = this.offset;
    // Flush the directory in ~1 MiB writes rather than one record at a time.
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const record of this.central) {
      batch.push(record);
      batchBytes += record.length;
      if (batchBytes >= 1 << 20) {
        await this.emit(Buffer.concat(batch));
        batch = [];
        batchBytes = 0;
      }
    }
    await this.emit(Buffer.concat(batch));
    const count = this.central.length;
    const cdSize = this.centralSize;
    const zip64 = this.options.forceZip64 === true || count >= U16_MAX || cdSize >= U32_MAX || cdOffset >= U32_MAX;
    if (zip64) {
      const zip64EocdOffset = this.offset;
      const r = Buffer.alloc(ZIP64_EOCD_FIXED);
      r.writeUInt32LE(SIGNATURE.zip64Eocd, 0);
      writeU64(r, ZIP64_EOCD_FIXED - 12, 4); // size of the rest of this record
      r.writeUInt16LE(MADE_BY, 12);
      r.writeUInt16LE(NEEDS_ZIP64, 14);
      r.writeUInt32LE(0, 16); // this disk
      r.writeUInt32LE(0, 20); // disk with the directory
      writeU64(r, count, 24);
      writeU64(r, count, 32);
      writeU64(r, cdSize, 40);
      writeU64(r, cdOffset, 48);
      const l = Buffer.alloc(ZIP64_LOCATOR);
      l.writeUInt32LE(SIGNATURE.zip64Locator, 0);
      l.writeUInt32LE(0, 4);
      writeU64(l, zip64EocdOffset, 8);
      l.writeUInt32LE(1, 16); // total disks
      await this.emit(Buffer.concat([r, l]));
    }
    const comment = Buffer.from(this.options.comment ?? '', 'utf8');
    if (comment.length > U16_MAX) throw new ZipFormatError('zip comment longer than 65,535 bytes');
    const e = Buffer.alloc(EOCD_FIXED);
    e.writeUInt32LE(SIGNATURE.eocd, 0);
    e.writeUInt16LE(0, 4);
    e.writeUInt16LE(0, 6);
    e.writeUInt16LE(zip64 ? U16_MAX : count, 8);
    e.writeUInt16LE(zip64 ? U16_MAX : count, 10);
    e.writeUInt32LE(zip64 ? U32_MAX : cdSize, 12);
    e.writeUInt32LE(zip64 ? U32_MAX : cdOffset, 16);
    e.writeUInt16LE(comment.length, 20);
    await this.emit(Buffer.concat([e, comment]));
    return { bytes: this.offset, entries: count, centralDirectoryOffset: cdOffset, centralDirectorySize: cdSize, zip64 };
  }

  private assertOpen(): void {
    if (this.finished) throw new Error('zip writer already finished');
  }
}

function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(ZIP64_EXTRA, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => writeU64(b, v, 4 + 8 * i));
  return b;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Random access to a zip's bytes (an S3 object through ranged GETs, or a buffer in tests). */
export interface RangeReader {
  readonly size: number;
  /** Bytes [start, end): exactly end - start of them. */
  read(start: number, end: number): Promise<Buffer>;
}

export function bufferReader(buf: Buffer): RangeReader {
  return { size: buf.length, read: (start, end) => Promise.resolve(buf.subarray(start, end)) };
}

export interface CentralEntry {
  name: string;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  offset: number;
  mtime: Date;
}

export interface ZipDirectory {
  entries: CentralEntry[];
  centralDirectoryOffset: number;
  centralDirectorySize: number;
  zip64: boolean;
  comment: string;
}

interface EndRecords {
  count: number;
  cdOffset: number;
  cdSize: number;
  zip64: boolean;
  comment: string;
  /** Where the end records begin: the directory must end here. */
  endStart: number;
}

function findEnd(tail: Buffer, tailStart: number, total: number): EndRecords {
  for (let i = tail.length - EOCD_FIXED; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== SIGNATURE.eocd) continue;
    const commentLength = tail.readUInt16LE(i + 20);
    // A signature inside the comment or the directory is not the end record: its comment must
    // reach exactly the end of the file.
    if (i + EOCD_FIXED + commentLength !== tail.length) continue;
    let count = tail.readUInt16LE(i + 10);
    let cdSize = tail.readUInt32LE(i + 12);
    let cdOffset = tail.readUInt32LE(i + 16);
    const comment = tail.toString('utf8', i + EOCD_FIXED, i + EOCD_FIXED + commentLength);
    let endStart = tailStart + i;
    let zip64 = false;
    const loc = i - ZIP64_LOCATOR;
    if (loc >= 0 && tail.readUInt32LE(loc) === SIGNATURE.zip64Locator) {
      const recordAt = readU64(tail, loc + 8);
      const inTail = recordAt - tailStart;
      if (inTail < 0 || inTail + ZIP64_EOCD_FIXED > loc) throw new ZipFormatError(`zip64 end record at ${recordAt} is not where the locator says`);
      if (tail.readUInt32LE(inTail) !== SIGNATURE.zip64Eocd) throw new ZipFormatError(`no zip64 end record at ${recordAt}`);
      count = readU64(tail, inTail + 32);
      cdSize = readU64(tail, inTail + 40);
      cdOffset = readU64(tail, inTail + 48);
      endStart = recordAt;
      zip64 = true;
    } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
      throw new ZipFormatError('the end record points to zip64 records that are missing');
    }
    if (cdOffset + cdSize !== endStart) {
      throw new ZipFormatError(`central directory [${cdOffset}, +${cdSize}) does not end where the end records begin (${endStart}) in a ${total}-byte zip`);
    }
    return { count, cdOffset, cdSize, zip64, comment, endStart };
  }
  throw new ZipFormatError(`no end-of-central-directory record in the last ${tail.length} bytes: not a zip, or truncated`);
}

/** Parses one central directory record at `at`; returns it and the offset after it. */
function parseCentral(b: Buffer, at: number): { entry: CentralEntry; next: number } {
  if (b.readUInt32LE(at) !== SIGNATURE.central) throw new ZipFormatError(`bad central directory record signature at directory byte ${at}`);
  const flags = b.readUInt16LE(at + 8);
  const method = b.readUInt16LE(at + 10);
  const time = b.readUInt16LE(at + 12);
  const date = b.readUInt16LE(at + 14);
  const crc = b.readUInt32LE(at + 16);
  let compressedSize = b.readUInt32LE(at + 20);
  let size = b.readUInt32LE(at + 24);
  const nameLength = b.readUInt16LE(at + 28);
  const extraLength = b.readUInt16LE(at + 30);
  const commentLength = b.readUInt16LE(at + 32);
  let offset = b.readUInt32LE(at + 42);
  const nameStart = at + CENTRAL_HEADER_FIXED;
  const extraStart = nameStart + nameLength;
  const next = extraStart + extraLength + commentLength;
  if (next > b.length) throw new ZipFormatError(`central directory record at directory byte ${at} runs past the directory`);
  const name = b.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1', nameStart, extraStart);
  // Zip64 extra: only the fields whose classic value is 0xFFFFFFFF, in this order.
  if (size === U32_MAX || compressedSize === U32_MAX || offset === U32_MAX) {
    let p = extraStart;
    let found = false;
    while (p + 4 <= extraStart + extraLength) {
      const id = b.readUInt16LE(p);
      const len = b.readUInt16LE(p + 2);
      if (id === ZIP64_EXTRA) {
        let q = p + 4;
        const take = (): number => {
          if (q + 8 > p + 4 + len) throw new ZipFormatError(`${name}: zip64 extra field too short`);
          const v = readU64(b, q);
          q += 8;
          return v;
        };
        if (size === U32_MAX) size = take();
        if (compressedSize === U32_MAX) compressedSize = take();
        if (offset === U32_MAX) offset = take();
        found = true;
        break;
      }
      p += 4 + len;
    }
    if (!found) throw new ZipFormatError(`${name}: sizes point to a zip64 extra field that is missing`);
  }
  return { entry: { name, flags, method, crc32: crc >>> 0, compressedSize, size, offset, mtime: fromDosDateTime(date, time) }, next };
}

/**
 * Reads a zip's central directory: one read for the end records, then the directory itself in
 * reads of at most `chunkBytes`. Throws ZipFormatError when anything does not add up.
 */
export async function readZipDirectory(reader: RangeReader, chunkBytes = 8 << 20): Promise<ZipDirectory> {
  if (reader.size < EOCD_FIXED) throw new ZipFormatError(`${reader.size} bytes: too short to be a zip`);
  const tailStart = Math.max(0, reader.size - MAX_TAIL);
  const tail = await reader.read(tailStart, reader.size);
  const end = findEnd(tail, tailStart, reader.size);
  const entries: CentralEntry[] = [];
  let carry = Buffer.alloc(0);
  for (let pos = end.cdOffset; pos < end.cdOffset + end.cdSize; ) {
    const upto = Math.min(pos + chunkBytes, end.cdOffset + end.cdSize);
    // The end of the directory may already be in the tail we read.
    const chunk = pos >= tailStart ? tail.subarray(pos - tailStart, upto - tailStart) : await reader.read(pos, upto);
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let at = 0;
    const last = upto === end.cdOffset + end.cdSize;
    while (at + CENTRAL_HEADER_FIXED <= buf.length) {
      const lengths = buf.readUInt16LE(at + 28) + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
      if (at + CENTRAL_HEADER_FIXED + lengths > buf.length) break;
      const { entry, next } = parseCentral(buf, at);
      entries.push(entry);
      at = next;
    }
    carry = Buffer.from(buf.subarray(at));
    if (last && carry.length) throw new ZipFormatError(`${carry.length} stray bytes at the end of the central directory`);
    pos = upto;
  }
  if (entries.length !== end.count) throw new ZipFormatError(`the end record counts ${end.count} entries, the directory holds ${entries.length}`);
  return { entries, centralDirectoryOffset: end.cdOffset, centralDirectorySize: end.cdSize, zip64: end.zip64, comment: end.comment };
}

/** The local header at the start of `b` (an entry's offset): where its data starts, relative to `b`. */
export function parseLocalHeader(b: Buffer, expectedName: string): { dataStart: number; method: number } {
  if (b.length < LOCAL_HEADER_FIXED || b.readUInt32LE(0) !== SIGNATURE.local) throw new ZipFormatError(`${expectedName}: no local header at its offset`);
  const flags = b.readUInt16LE(6);
  const nameLength = b.readUInt16LE(26);
  const extraLength = b.readUInt16LE(28);
  if (b.length < LOCAL_HEADER_FIXED + nameLength) throw new ZipFormatError(`${expectedName}: local header cut short`);
  const name = b.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1', LOCAL_HEADER_FIXED, LOCAL_HEADER_FIXED + nameLength);
  if (name !== expectedName) throw new ZipFormatError(`local header at the offset of ${expectedName} names ${name}`);
  return { dataStart: LOCAL_HEADER_FIXED + nameLength + extraLength, method: b.readUInt16LE(8) };
}

/** How many bytes to read at an entry's offset to be sure of its whole local header (name + our extras). */
export function localHeaderAllowance(name: string): number {
  return LOCAL_HEADER_FIXED + Buffer.byteLength(name, 'utf8') + 64;
}
