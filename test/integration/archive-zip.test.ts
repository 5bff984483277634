// Raw-zone archival against the real S3 server and control plane, step by step through the archive
// activities: thousands of small files archived into one Standard-IA zip, verified, deleted and
// recovered byte for byte; files the lake has not consumed, or that change or vanish around the
// steps, are never lost; a corrupted zip is caught before anything is deleted and reported entry by
// entry at recovery. The zip format itself (zip64 with more than 65,535 entries, checked in memory:
// that many objects through the local S3 server would take ten minutes to create) is tested below.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { createArchiveActivities, type ArchiveActivities } from '../../activities/archive';
import { estimateArchive, tally } from '../../lib/archive/cost';
import { extractEntries } from '../../lib/archive/extract';
import { ArchiveStore } from '../../lib/archive/store';
import { bufferReader, crc32, crc32Base64, METHOD_DEFLATE, readZipDirectory, ZipFormatError, ZipWriter } from '../../lib/archive/zip';
import type { DeletionProgress } from '../../workflows/archivePartition';
import { createArchiveFixture, fileBody, getBytes, incompleteUploads, listKeys, markConsumed, putFiles, rawFileKey, type ArchiveFixture } from '../support/archive-fixtures';

// Activity failures are expected in some tests: keep the SDK's warnings about them out of the output.
const quiet = new DefaultLogger('ERROR');
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment(undefined, { logger: quiet }).run(fn, ...args);

async function rejectsWith(p: Promise<unknown>, type: string, pattern: RegExp): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, type, err.message);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n\s+at /, 'no stack trace in the message');
    return err.message;
  }
  assert.fail(`expected ${type}`);
}

async function deleteAll(acts: ArchiveActivities, archiveId: number, batchKeys = 1000): Promise<DeletionProgress> {
  const total: DeletionProgress = { archiveId, deleted: 0, alreadyGone: 0, changed: 0, failed: 0, failedKeys: [], remaining: 1, claimed: 0 };
  while (total.remaining > 0) {
    const step = await run(acts.deleteArchivedOriginals, { archiveId, maxKeys: batchKeys * 3, batchKeys });
    total.deleted += step.deleted;
    total.alreadyGone += step.alreadyGone;
    total.changed += step.changed;
    total.failed += step.failed;
    total.remaining = step.remaining;
    total.claimed = step.claimed;
    assert.equal(step.failed, 0, step.failedKeys.join(', '));
  }
  return total;
}

describe('raw-zone archive and recovery (S3 + control plane)', () => {
  let fx: ArchiveFixture;
  let acts: ArchiveActivities;
  let store: ArchiveStore;
  const day1 = new Map<string, Buffer>();
  const day2 = new Map<string, Buffer>();
  const day3 = new Map<string, Buffer>();
  const DAY1 = '2024-03-01';
  const DAY2 = '2024-03-02';
  const DAY3 = '2024-03-03';

  before(async () => {
    fx = await createArchiveFixture();
    // Small parts, so even these zips are several parts of a multipart upload.
    acts = createArchiveActivities({ config: fx.config, controlPlane: fx.controlPlane, s3: fx.s3, settings: { partSize: 5 * 1024 * 1024 } });
    store = new ArchiveStore(fx.controlPlane.pool);
    for (let i = 0; i < 2000; i++) day1.set(rawFileKey(fx.table.sourceName, DAY1, i), fileBody(i));
    // One file too large to hold in memory whole: streamed through deflate with a data descriptor.
    day1.set(rawFileKey(fx.table.sourceName, DAY1, 5000), Buffer.concat([fileBody(5000, 6 * 1024 * 1024), Buffer.alloc(3 * 1024 * 1024, 7)]));
    for (let i = 0; i < 300; i++) day2.set(rawFileKey(fx.table.sourceName, DAY2, 10_000 + i), fileBody(10_000 + i));
    for (let i = 0; i < 200; i++) day3.set(rawFileKey(fx.table.sourceName, DAY3, 20_000 + i), fileBody(20_000 + i));
    await putFiles(fx.s3, fx.rawBucket, new Map([...day1, ...day2, ...day3]));
    // A full-load file at the table root: never part of a partition.
    await fx.s3.send(new PutObjectCommand({ Bucket: fx.rawBucket, Key: `${fx.table.sourceName}/public/events/LOAD00000001.parquet`, Body: fileBody(1) }));
    await markConsumed(fx, day1);
    await markConsumed(fx, day3);
    // Day 2: the lake has consumed only the first 250 files.
    await markConsumed(fx, new Map([...day2].slice(0, 250)));
  });

  after(async () => {
    await fx?.close();
  });

  it('archives 2,001 files into one Standard-IA zip, deletes them, and recovers every byte', { timeout: 170_000 }, async () => {
    const plan = await run(acts.listArchivePartition, { table: fx.tableName, partition: DAY1 });
    assert.equal(plan.status, 'listed');
    assert.equal(plan.files, day1.size);
    assert.equal(plan.zipKey, `raw-zone/${fx.table.sourceName}/public/events/day/2024-03-01.zip`);
    const built = await run(acts.buildArchiveZip, { archiveId: plan.archiveId! });
    assert.equal(built.files, day1.size);
    assert.equal(built.skipped, 0);
    assert.ok(built.zipBytes < [...day1.values()].reduce((n, b) => n + b.length, 0), 'the zip is smaller than the files');

    const head = await fx.s3.send(new HeadObjectCommand({ Bucket: fx.archiveBucket, Key: plan.zipKey, ChecksumMode: 'ENABLED' }));
    assert.equal(head.StorageClass, 'STANDARD_IA');
    assert.equal(head.ChecksumCRC32, built.crc32, 'the store verified and kept the whole-zip CRC-32');
    assert.equal(head.ContentLength, built.zipBytes);
    // The zip is an ordinary zip: its directory lists every file with the original's CRC-32.
    const zip = await getBytes(fx.s3, fx.archiveBucket, plan.zipKey);
    const dir = await readZipDirectory(bufferReader(zip));
    assert.equal(dir.entries.length, day1.size);
    for (const e of dir.entries) assert.equal(e.crc32, crc32(day1.get(e.name)!), e.name);

    const verified = await run(acts.verifyArchive, { archiveId: plan.archiveId!, deep: true });
    assert.equal(verified.deepChecked, day1.size);
    assert.ok(verified.estimate.monthlySaving > 0, JSON.stringify(verified.estimate));

    const deleted = await deleteAll(acts, plan.archiveId!, 400);
    assert.equal(deleted.deleted, day1.size);
    assert.deepEqual(await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/03/01/`), []);
    const row = (await store.get(plan.archiveId!))!;
    assert.equal(row.status, 'originals_deleted');
    assert.equal(row.fileCount, day1.size);
    assert.equal(row.zipSha256?.length, 64);
    assert.equal((await store.entries(plan.archiveId!, ['deleted'])).length, day1.size);
    assert.deepEqual(await listKeys(fx.s3, fx.archiveBucket), [plan.zipKey]);
    assert.equal(await incompleteUploads(fx.s3, fx.archiveBucket), 0);

    // A second run finds nothing left to archive, and says why.
    const again = await run(acts.listArchivePartition, { table: fx.tableName, partition: DAY1 });
    assert.equal(again.status, 'nothing');
    assert.match(again.message, /no raw files in the partition/);

    // Recovery to the original keys: every file back, byte for byte, as STANDARD.
    const found = await run(acts.findArchivesToRecover, { table: fx.tableName, startDate: DAY1, endDate: DAY1 });
    assert.equal(found.archives.length, 1);
    const recovered = await run(acts.recoverArchiveEntries, { archiveId: plan.archiveId!, startDate: DAY1, endDate: DAY1, targetBucket: fx.rawBucket, targetPrefix: '', concurrency: 16 });
    assert.equal(recovered.recovered, day1.size);
    assert.equal(recovered.verified, day1.size);
    assert.equal(recovered.corrupt + recovered.conflicts, 0);
    for (const [key, body] of day1) assert.ok(body.equals(await getBytes(fx.s3, fx.rawBucket, key)), key);
    const back = await fx.s3.send(new HeadObjectCommand({ Bucket: fx.rawBucket, Key: rawFileKey(fx.table.sourceName, DAY1, 7), ChecksumMode: 'ENABLED' }));
    assert.equal(back.StorageClass ?? 'STANDARD', 'STANDARD');
    assert.equal(back.ChecksumCRC32, crc32Base64(crc32(day1.get(rawFileKey(fx.table.sourceName, DAY1, 7))!)));

    // Idempotent: again, nothing uploaded, everything found in place.
    const twice = await run(acts.recoverArchiveEntries, { archiveId: plan.archiveId!, startDate: DAY1, endDate: DAY1, targetBucket: fx.rawBucket, targetPrefix: '', concurrency: 16 });
    assert.equal(twice.recovered, 0);
    assert.equal(twice.skippedExisting, day1.size);
    // Recovered files are the archived ones: the next archive run leaves them alone.
    const afterRecovery = await run(acts.listArchivePartition, { table: fx.tableName, partition: DAY1 });
    assert.equal(afterRecovery.status, 'nothing');
    assert.equal(afterRecovery.alreadyArchived, day1.size);

    // No archive holds other dates: a clear, empty answer.
    const none = await run(acts.findArchivesToRecover, { table: fx.tableName, startDate: '2023-01-01', endDate: '2023-01-31' });
    assert.deepEqual(none.archives, []);
    await rejectsWith(run(acts.findArchivesToRecover, { table: fx.tableName, startDate: '2024-02-30', endDate: '2024-03-01' }), 'InvalidArchiveRequest', /startDate "2024-02-30" is not a date/);
  });

  it('never deletes or claims files the lake has not consumed, or that vanish or change around the steps', { timeout: 120_000 }, async () => {
    const keys = [...day2.keys()];
    const plan = await run(acts.listArchivePartition, { table: fx.tableName, partition: DAY2 });
    assert.equal(plan.files, 250);
    assert.equal(plan.notConsumed, 50);
    // Between listing and zipping: one file rewritten, one deleted.
    const changedEarly = keys[3]!;
    const vanishedEarly = keys[4]!;
    day2.set(changedEarly, Buffer.from('rewritten before zipping'));
    await fx.s3.send(new PutObjectCommand({ Bucket: fx.rawBucket, Key: changedEarly, Body: day2.get(changedEarly) }));
    await fx.s3.send(new DeleteObjectCommand({ Bucket: fx.rawBucket, Key: vanishedEarly }));
    day2.delete(vanishedEarly);
    const built = await run(acts.buildArchiveZip, { archiveId: plan.archiveId! });
    assert.equal(built.files, 248);
    assert.equal(built.skipped, 2);
    await run(acts.verifyArchive, { archiveId: plan.archiveId!, deep: true });

    // Between verification and deletion: one rewritten, one deleted by someone else, one new file.
    const changedLate = keys[10]!;
    const goneLate = keys[11]!;
    const appeared = rawFileKey(fx.table.sourceName, DAY2, 19_999);
    day2.set(changedLate, Buffer.from('rewritten after zipping'));
    await fx.s3.send(new PutObjectCommand({ Bucket: fx.rawBucket, Key: changedLate, Body: day2.get(changedLate) }));
    await fx.s3.send(new DeleteObjectCommand({ Bucket: fx.rawBucket, Key: goneLate }));
    const goneLateBody = day2.get(goneLate)!;
    day2.delete(goneLate);
    day2.set(appeared, fileBody(19_999));
    await putFiles(fx.s3, fx.rawBucket, new Map([[appeared, day2.get(appeared)!]]));
    await markConsumed(fx, new Map([[appeared, day2.get(appeared)!]]));

    const deleted = await deleteAll(acts, plan.archiveId!, 100);
    assert.equal(deleted.deleted, 246);
    assert.equal(deleted.alreadyGone, 1);
    assert.equal(deleted.changed, 1);
    const left = new Set(await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/03/02/`));
    // Kept: the 50 unconsumed, both rewritten files, the new file.
    assert.equal(left.size, 53);
    for (const k of [changedEarly, changedLate, appeared, ...keys.slice(250)]) assert.ok(left.has(k), k);
    assert.equal((await store.get(plan.archiveId!))!.fileCount, 247, 'the archive claims what it holds and was not changed since');

    // The next run archives what is new or changed (consumed) as a second generation of the day.
    const next = await run(acts.listArchivePartition, { table: fx.tableName, partition: DAY2 });
    assert.equal(next.generation, 1);
    assert.equal(next.files, 3);
    assert.equal(next.notConsumed, 50);
    assert.equal(next.zipKey, `raw-zone/${fx.table.sourceName}/public/events/day/2024-03-02.g1.zip`);
    await run(acts.buildArchiveZip, { archiveId: next.archiveId! });
    await run(acts.verifyArchive, { archiveId: next.archiveId!, deep: false });
    await deleteAll(acts, next.archiveId!);

    // Recovery of the day brings back the latest version of every claimed file, to a prefix.
    const found = await run(acts.findArchivesToRecover, { table: fx.tableName, startDate: DAY2, endDate: DAY2 });
    assert.equal(found.archives.length, 2);
    let recovered = 0;
    for (const a of found.archives) {
      const r = await run(acts.recoverArchiveEntries, { archiveId: a.archiveId, startDate: DAY2, endDate: DAY2, targetBucket: fx.rawBucket, targetPrefix: 'day2/', concurrency: 8 });
      assert.equal(r.corrupt + r.conflicts, 0);
      recovered += r.recovered;
    }
    assert.equal(recovered, 250);
    for (const [key, body] of [...day2].filter(([k]) => !keys.slice(250).includes(k))) assert.ok(body.equals(await getBytes(fx.s3, fx.rawBucket, `day2/${key}`)), key);
    // The file someone deleted before we did is in the first zip.
    assert.ok(goneLateBody.equals(await getBytes(fx.s3, fx.rawBucket, `day2/${goneLate}`)));
  });

  it('catches a corrupted zip before deleting anything, and reports broken entries at recovery', { timeout: 120_000 }, async () => {
    const plan = await run(acts.listArchivePartition, { table: fx.tableName, partition: DAY3 });
    await run(acts.buildArchiveZip, { archiveId: plan.archiveId! });
    const good = await getBytes(fx.s3, fx.archiveBucket, plan.zipKey);
    const dir = await readZipDirectory(bufferReader(good));

    // 1. The zip replaced by other bytes: its ETag no longer is the upload's.
    const flipped = Buffer.from(good);
    flipped[dir.centralDirectoryOffset + 16]! ^= 0xff; // the first entry's CRC-32 in the directory
    await fx.s3.send(new PutObjectCommand({ Bucket: fx.archiveBucket, Key: plan.zipKey, Body: flipped, StorageClass: 'STANDARD_IA' }));
    await rejectsWith(run(acts.verifyArchive, { archiveId: plan.archiveId!, deep: true }), 'ArchiveVerificationFailed', /failed verification, nothing deleted.*replaced since/);
    assert.equal((await store.get(plan.archiveId!))!.status, 'failed');
    await rejectsWith(run(acts.deleteArchivedOriginals, { archiveId: plan.archiveId!, maxKeys: 1000, batchKeys: 1000 }), 'ArchiveVerificationFailed', /not verified: no original may be deleted/);

    // 2. Same ETag, bad directory (a store handing back damaged bytes): the entry's CRC does not match.
    const pin = async () => {
      const h = await fx.s3.send(new HeadObjectCommand({ Bucket: fx.archiveBucket, Key: plan.zipKey }));
      await fx.controlPlane.pool.query("UPDATE archives SET status = 'uploaded', zip_etag = $2, zipped_bytes = $3, zip_checksum = NULL WHERE archive_id = $1", [plan.archiveId, h.ETag, h.ContentLength]);
    };
    await pin();
    await rejectsWith(run(acts.verifyArchive, { archiveId: plan.archiveId!, deep: true }), 'ArchiveVerificationFailed', /CRC-32 [0-9a-f]+ in the zip, [0-9a-f]+ streamed from the original/);

    // 3. A damaged byte inside an entry's data: only reading the entries back finds it.
    const damaged = Buffer.from(good);
    const victim = dir.entries[7]!;
    damaged[victim.offset + 30 + Buffer.byteLength(victim.name) + Math.floor(victim.compressedSize / 2)]! ^= 0x55;
    await fx.s3.send(new PutObjectCommand({ Bucket: fx.archiveBucket, Key: plan.zipKey, Body: damaged, StorageClass: 'STANDARD_IA' }));
    await pin();
    await rejectsWith(run(acts.verifyArchive, { archiveId: plan.archiveId!, deep: true }), 'ArchiveVerificationFailed', new RegExp(`${victim.name}: (does not inflate|CRC-32|\\d+ bytes inflated)`));

    // 4. A truncated zip: no end record.
    await fx.s3.send(new PutObjectCommand({ Bucket: fx.archiveBucket, Key: plan.zipKey, Body: good.subarray(0, good.length - 10), StorageClass: 'STANDARD_IA' }));
    await pin();
    await rejectsWith(run(acts.verifyArchive, { archiveId: plan.archiveId!, deep: false }), 'ArchiveVerificationFailed', /no end-of-central-directory record/);

    // Every original is still there.
    assert.equal((await listKeys(fx.s3, fx.rawBucket, `${fx.table.sourceName}/public/events/2024/03/03/`)).length, day3.size);

    // The next run rebuilds the failed archive at the same key, and this time it verifies.
    const rerun = await run(acts.listArchivePartition, { table: fx.tableName, partition: DAY3 });
    assert.equal(rerun.archiveId, plan.archiveId);
    assert.equal(rerun.resumed, true);
    await run(acts.buildArchiveZip, { archiveId: plan.archiveId! });
    await run(acts.verifyArchive, { archiveId: plan.archiveId!, deep: true });
    await deleteAll(acts, plan.archiveId!);
    assert.deepEqual((await listKeys(fx.s3, fx.archiveBucket, `raw-zone/${fx.table.sourceName}/public/events/day/2024-03-03`)).length, 1);

    // Damage after verification: recovery checks every entry and recovers all the others.
    const rebuilt = await getBytes(fx.s3, fx.archiveBucket, plan.zipKey);
    const broken = Buffer.from(rebuilt);
    const rdir = await readZipDirectory(bufferReader(rebuilt));
    const hit = rdir.entries[42]!;
    broken[hit.offset + 30 + Buffer.byteLength(hit.name) + Math.floor(hit.compressedSize / 2)]! ^= 0x55;
    await fx.s3.send(new PutObjectCommand({ Bucket: fx.archiveBucket, Key: plan.zipKey, Body: broken, StorageClass: 'STANDARD_IA' }));
    const r = await run(acts.recoverArchiveEntries, { archiveId: plan.archiveId!, startDate: DAY3, endDate: DAY3, targetBucket: fx.rawBucket, targetPrefix: 'day3/', concurrency: 8 });
    assert.equal(r.corrupt, 1);
    assert.deepEqual(r.corruptKeys, [hit.name]);
    assert.equal(r.recovered, day3.size - 1);
    assert.equal(r.zipChanged, true);
    for (const [key, body] of day3) if (key !== hit.name) assert.ok(body.equals(await getBytes(fx.s3, fx.rawBucket, `day3/${key}`)), key);
  });

  it('refuses bad requests with clear messages', async () => {
    await rejectsWith(run(acts.listArchivePartition, { table: 'no.such.table', partition: DAY1 }), 'InvalidTableDefinition', /not onboarded/);
    await rejectsWith(run(acts.listArchivePartition, { table: fx.tableName, partition: '2024-13-01' }), 'InvalidArchiveRequest', /not a day \(YYYY-MM-DD\)/);
    const empty = await run(acts.listArchivePartition, { table: fx.tableName, partition: '2024-01', level: 'month' });
    assert.equal(empty.status, 'nothing');
    assert.equal(empty.archiveId, null);
  });
});

describe('zip format', () => {
  async function writeZip(n: number, opts: { forceZip64?: boolean; streamed?: number[] } = {}): Promise<{ zip: Buffer; originals: Map<string, Buffer> }> {
    const chunks: Buffer[] = [];
    const writer = new ZipWriter({ write: (c) => Promise.resolve(void chunks.push(c)) }, { forceZip64: opts.forceZip64, comment: 'test' });
    const originals = new Map<string, Buffer>();
    for (let i = 0; i < n; i++) {
      const name = `t/${String(i).padStart(6, '0')}.bin`;
      const data = Buffer.from(`entry ${i} `.repeat((i % 5) + 1));
      originals.set(name, data);
      if (opts.streamed?.includes(i)) await writer.addStreamed({ name, mtime: new Date('2024-03-01T00:00:00Z'), expectedSize: data.length, source: Readable.from([data.subarray(0, 2), data.subarray(2)]) });
      else await writer.addPrepared({ name, mtime: new Date('2024-03-01T00:00:00Z'), method: METHOD_DEFLATE, crc32: crc32(data), size: data.length, data: zlib.deflateRawSync(data) });
    }
    await writer.finish();
    return { zip: Buffer.concat(chunks), originals };
  }

  async function readAll(zip: Buffer): Promise<Map<string, Buffer>> {
    const dir = await readZipDirectory(bufferReader(zip), 64 * 1024);
    const out = new Map<string, Buffer>();
    await extractEntries(
      bufferReader(zip),
      dir.entries,
      async (x) => {
        const chunks: Buffer[] = [];
        if ('stream' in x) for await (const c of x.stream) chunks.push(c);
        out.set(x.entry.name, 'data' in x ? x.data : Buffer.concat(chunks));
      },
      (_e, err) => assert.fail(err.message),
      { maxSpanBytes: 256 * 1024 },
    );
    return out;
  }

  it('writes zip64 end records for more than 65,535 entries, and reads them back', { timeout: 60_000 }, async () => {
    const { zip, originals } = await writeZip(70_000);
    // The classic end record says "see zip64"; the zip64 record and its locator precede it.
    const eocd = zip.length - 22 - 4;
    assert.equal(zip.readUInt32LE(eocd), 0x06054b50);
    assert.equal(zip.readUInt16LE(eocd + 10), 0xffff);
    assert.equal(zip.readUInt32LE(eocd - 20), 0x07064b50);
    const dir = await readZipDirectory(bufferReader(zip));
    assert.equal(dir.zip64, true);
    assert.equal(dir.entries.length, 70_000);
    const back = await readAll(zip);
    assert.equal(back.size, 70_000);
    for (const [k, v] of originals) assert.ok(v.equals(back.get(k)!), k);
  });

  it('writes zip64 sizes and offsets when forced (the 4 GiB path), with streamed entries', async () => {
    const { zip, originals } = await writeZip(50, { forceZip64: true, streamed: [3, 49] });
    const dir = await readZipDirectory(bufferReader(zip));
    assert.equal(dir.zip64, true);
    const back = await readAll(zip);
    for (const [k, v] of originals) assert.ok(v.equals(back.get(k)!), k);
  });

  it('rejects what is not a whole zip', async () => {
    const { zip } = await writeZip(10);
    await assert.rejects(readZipDirectory(bufferReader(zip.subarray(0, zip.length - 5))), ZipFormatError);
    await assert.rejects(readZipDirectory(bufferReader(Buffer.alloc(1000, 1))), /no end-of-central-directory record/);
    const shifted = Buffer.from(zip);
    const dir = await readZipDirectory(bufferReader(zip));
    shifted[dir.centralDirectoryOffset]! ^= 0xff;
    await assert.rejects(readZipDirectory(bufferReader(shifted)), /bad central directory record signature/);
  });

  it('estimates the saving with the 128 KiB minimum and the 30-day minimum of Standard-IA', () => {
    // 10,000 files of 8 KiB: in Standard-IA one by one they would bill as 128 KiB each.
    const originals = tally(Array.from({ length: 10_000 }, () => 8 * 1024), 'STANDARD');
    const e = estimateArchive({ originals, zipBytes: 60 * 1024 * 1024 });
    assert.ok(e.monthlyAfter < e.monthlyBefore);
    assert.ok(e.perFileInZipClassMonthly > e.monthlyBefore, 'per-file Standard-IA costs more than Standard for small files');
    assert.ok(Math.abs(e.minimumDurationCharge - e.monthlyAfter) < 1e-6, '30 days of Standard-IA is one month of it');
    const tiny = estimateArchive({ originals: tally([1000], 'STANDARD'), zipBytes: 900 });
    assert.equal(tiny.zipBytes, 900);
    assert.ok(tiny.monthlyAfter > tiny.monthlyBefore, 'a zip under 128 KiB bills as 128 KiB');
  });
});
