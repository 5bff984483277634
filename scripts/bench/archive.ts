// The archive benchmark: files/second, MB/second and peak RSS of archiving one raw partition of N
// small files, Danau's streaming way beside the seed's way, on the same S3 server in the same run.
//
//   danau  list the partition; stream every object into a zip (a window of GETs ahead of the writer,
//          deflate on the thread pool) straight into a Standard-IA multipart upload with a CRC-32
//          checksum; then verify: read the central directory back and every entry by ranged GETs,
//          checking each CRC-32 (lib/archive: what the archive activities run, without the control
//          plane's bookkeeping).
//   seed   the seed's script: download every object into a temporary directory (16 at a time, like its
//          thread pool), zip the directory file by file (deflate level 6, as Python's zipfile), upload
//          the zip file as a Standard-IA multipart upload, remove the directory. No verification.
//
// Each method runs in a child process of its own, so its peak RSS is its own (process.resourceUsage's
// maxRSS). Files are synthetic CDC-sized objects (0.8-20 KiB, partly compressible), uploaded to a
// scratch bucket first (not timed). Ratios are danau / seed (above 1 is better for throughput,
// below 1 for memory).
//
//   npm run -s bench:archive -- [--sizes 1000,10000,100000] [--concurrency 16] [--keep]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { buildZip } from '../../lib/archive/build';
import { MultipartUpload, partSizeFor } from '../../lib/archive/multipart';
import { bodyChunks, listPrefix, s3RangeReader, type ListedObject } from '../../lib/archive/s3';
import { verifyZip } from '../../lib/archive/verify';
import { crc32, METHOD_DEFLATE, METHOD_STORED, ZipWriter } from '../../lib/archive/zip';
import { forEachLimit } from '../../lib/archive/limit';
import { loadConfig } from '../../lib/config';
import { createS3Client } from '../../lib/s3';

const PREFIX = 'bench/events/2024/01/01/';

interface ChildResult {
  method: 'danau' | 'seed';
  files: number;
  bytes: number;
  zipBytes: number;
  seconds: number;
  phases: Record<string, number>;
  maxRssMiB: number;
  /** seed: the most bytes on local disk at once (downloads + zip). */
  diskBytes: number;
  checked: number;
}

function key(i: number): string {
  const s = i % 86_400;
  const clock = `${String(Math.floor(s / 3600)).padStart(2, '0')}${String(Math.floor(s / 60) % 60).padStart(2, '0')}${String(s % 60).padStart(2, '0')}${String(i % 1_000_000).padStart(6, '0')}`;
  return `${PREFIX}20240101-${clock}-${String(i).padStart(10, '0')}.parquet`;
}

/** Deterministic CDC-file-sized bytes: a repeated header block and noise, like a small Parquet file. */
function body(seed: number): Buffer {
  const size = 800 + ((seed * 7919) % 19_700);
  const b = Buffer.alloc(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  const block = Buffer.from(`PAR1 row group ${seed % 17} dictionary page `);
  for (let i = 0; i < size; i++) {
    if (i % 64 < 40) b[i] = block[i % block.length]!;
    else {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
  }
  return b;
}

async function emptyAndDrop(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const objects = await listPrefix(s3, bucket, '');
    if (objects.length === 0) break;
    for (let i = 0; i < objects.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000).map((o) => ({ Key: o.key })), Quiet: true } }));
    }
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

const now = () => performance.now() / 1000;

async function runDanau(s3: S3Client, raw: string, archive: string, concurrency: number): Promise<ChildResult> {
  const t0 = now();
  const objects = await listPrefix(s3, raw, PREFIX);
  const t1 = now();
  const bytes = objects.reduce((n, o) => n + o.size, 0);
  const upload = await MultipartUpload.start({ s3, bucket: archive, key: 'danau.zip', storageClass: 'STANDARD_IA', partSize: partSizeFor(bytes), contentType: 'application/zip' });
  const { entries } = await buildZip({ s3, bucket: raw, objects, sink: upload, concurrency });
  const done = await upload.complete();
  const t2 = now();
  const reader = await s3RangeReader(s3, archive, 'danau.zip', { etag: done.etag, size: done.bytes });
  const manifest = entries.flatMap((e) => (e.state === 'zipped' ? [{ key: e.key, size: e.size, crc32: e.crc32, offset: e.offset, compressedSize: e.compressedSize }] : []));
  const verified = await verifyZip(reader, manifest, { deep: true });
  if (!verified.ok) throw new Error(`verification failed: ${verified.problems.join('; ')}`);
  const t3 = now();
  return {
    method: 'danau',
    files: manifest.length,
    bytes,
    zipBytes: done.bytes,
    seconds: t3 - t0,
    phases: { list: t1 - t0, 'zip+upload': t2 - t1, verify: t3 - t2 },
    maxRssMiB: 0,
    diskBytes: 0,
    checked: verified.deepChecked,
  };
}

async function runSeed(s3: S3Client, raw: string, archive: string, concurrency: number): Promise<ChildResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'danau-bench-seed-'));
  try {
    const t0 = now();
    const objects: ListedObject[] = await listPrefix(s3, raw, PREFIX);
    const bytes = objects.reduce((n, o) => n + o.size, 0);
    // 1. Download everything to local disk.
    await forEachLimit(objects, concurrency, async (o, i) => {
      const res = await s3.send(new GetObjectCommand({ Bucket: raw, Key: o.key }));
      const chunks: Buffer[] = [];
      for await (const c of bodyChunks(res.Body)) chunks.push(c);
      writeFileSync(path.join(dir, `${i}.part`), Buffer.concat(chunks));
    });
    const t1 = now();
    // 2. Zip the directory, one file after another.
    const zipPath = path.join(dir, 'archive.zip');
    const out = createWriteStream(zipPath);
    const writer = new ZipWriter({
      write: async (c) => {
        if (!out.write(c)) await once(out, 'drain');
      },
    });
    for (const [i, o] of objects.entries()) {
      const data = readFileSync(path.join(dir, `${i}.part`));
      const deflated = zlib.deflateRawSync(data, { level: 6 });
      const stored = deflated.length >= data.length;
      await writer.addPrepared({ name: o.key, mtime: o.lastModified, method: stored ? METHOD_STORED : METHOD_DEFLATE, crc32: crc32(data), size: data.length, data: stored ? data : deflated });
    }
    await writer.finish();
    out.end();
    await once(out, 'close');
    const zipBytes = statSync(zipPath).size;
    const t2 = now();
    // 3. Upload the zip file.
    const upload = await MultipartUpload.start({ s3, bucket: archive, key: 'seed.zip', storageClass: 'STANDARD_IA', partSize: partSizeFor(zipBytes), contentType: 'application/zip' });
    for await (const c of createReadStream(zipPath, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) await upload.write(c);
    await upload.complete();
    const t3 = now();
    return {
      method: 'seed',
      files: objects.length,
      bytes,
      zipBytes,
      seconds: t3 - t0,
      phases: { download: t1 - t0, zip: t2 - t1, upload: t3 - t2 },
      maxRssMiB: 0,
      diskBytes: bytes + zipBytes,
      checked: 0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function child(method: string, raw: string, archive: string, concurrency: number): Promise<void> {
  const s3 = createS3Client(loadConfig());
  const result = method === 'danau' ? await runDanau(s3, raw, archive, concurrency) : await runSeed(s3, raw, archive, concurrency);
  result.maxRssMiB = process.resourceUsage().maxRSS / 1024;
  s3.destroy();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

function runChild(method: 'danau' | 'seed', raw: string, archive: string, concurrency: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [__filename, '--child', method, '--raw', raw, '--archive', archive, '--concurrency', String(concurrency)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as ChildResult);
      else reject(new Error(`${method} run failed (exit ${code}): ${err.slice(-2000)}`));
    });
  });
}

const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000,10000' },
      concurrency: { type: 'string', default: '16' },
      keep: { type: 'boolean', default: false },
      child: { type: 'string' },
      raw: { type: 'string' },
      archive: { type: 'string' },
    },
  });
  const concurrency = Number(values.concurrency);
  if (values.child) return child(values.child, values.raw!, values.archive!, concurrency);

  const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes: expected positive integers, got ${values.sizes}`);
  const config = loadConfig();
  const s3 = createS3Client(config);
  const rows: { n: number; seed: ChildResult; danau: ChildResult; setupSeconds: number }[] = [];
  try {
    for (const n of sizes) {
      const raw = `danau-bench-raw-${randomBytes(4).toString('hex')}`;
      const archive = `danau-bench-arch-${randomBytes(4).toString('hex')}`;
      await s3.send(new CreateBucketCommand({ Bucket: raw }));
      await s3.send(new CreateBucketCommand({ Bucket: archive }));
      try {
        const t = now();
        await forEachLimit(Array.from({ length: n }, (_, i) => i), 32, async (i) => {
          await s3.send(new PutObjectCommand({ Bucket: raw, Key: key(i), Body: body(i) }));
        });
        const setupSeconds = now() - t;
        process.stderr.write(`[bench] ${n} files uploaded in ${fmt(setupSeconds)} s; running seed, then danau\n`);
        const seed = await runChild('seed', raw, archive, concurrency);
        const danau = await runChild('danau', raw, archive, concurrency);
        rows.push({ n, seed, danau, setupSeconds });
        process.stderr.write(`[bench] ${n}: seed ${fmt(seed.seconds)} s, danau ${fmt(danau.seconds)} s\n`);
      } finally {
        if (!values.keep) {
          await emptyAndDrop(s3, raw);
          await emptyAndDrop(s3, archive);
        }
      }
    }
  } finally {
    s3.destroy();
  }

  const lines = [
    `archive benchmark: ${os.cpus().length} cores, S3 at ${config.s3.endpoint ?? 'AWS'}, ${concurrency} GETs at once`,
    '',
    '| files | method | seconds | files/s | MB/s | peak RSS MiB | zip/original | phases (s) |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    for (const m of [r.seed, r.danau]) {
      const phases = Object.entries(m.phases).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
      lines.push(`| ${r.n.toLocaleString('en-US')} | ${m.method} | ${fmt(m.seconds)} | ${fmt(m.files / m.seconds, 0)} | ${fmt(m.bytes / 1e6 / m.seconds, 2)} | ${fmt(m.maxRssMiB, 0)} | ${fmt(m.zipBytes / m.bytes, 2)} | ${phases}${m.method === 'seed' ? `; ${fmt(m.diskBytes / 1e6)} MB on local disk` : `; ${m.checked} entries re-read and CRC-checked`} |`);
    }
  }
  // Danau's time includes reading the whole zip back to verify it; the seed does not verify.
  lines.push('', '| files | danau/seed files/s (= MB/s) | same, danau without its verification | danau/seed peak RSS |', '| ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const noVerify = r.danau.seconds - (r.danau.phases.verify ?? 0);
    lines.push(`| ${r.n.toLocaleString('en-US')} | ${fmt(r.seed.seconds / r.danau.seconds, 2)} | ${fmt(r.seed.seconds / noVerify, 2)} | ${fmt(r.danau.maxRssMiB / r.seed.maxRssMiB, 2)} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:archive failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
