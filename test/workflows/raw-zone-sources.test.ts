// Two sources with the same schema.table write one raw bucket side by side (issue 12): each source's
// files live under its own <source>/ prefix, replay to its own table, and no raw object is ever
// replaced with other bytes. Also: the local S3 server honours If-None-Match (the write-once rule
// relies on it), and a raw zone of the layout before source prefixes is found and moved.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { findLegacyRawFiles, moveLegacyRawFiles } from '../../lib/raw-zone/legacy';
import { parseRawKey, rawTableOf } from '../../lib/raw-zone/keys';
import { ObjectConflictError, putObjectOnce } from '../../lib/s3';
import { explainFailure } from '../../lib/temporal/client';
import { CaptureHarness } from '../support/capture-harness';
import { getBytes, listRawKeys } from '../support/replay';

async function allKeys(h: CaptureHarness): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await h.adapters.s3.send(new ListObjectsV2Command({ Bucket: h.bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.set(o.Key!, o.ETag!);
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

for (const engine of ['postgres', 'mysql'] as const) {
  const [table, partition] = engine === 'postgres' ? ['lab_orders', 'ordered_at'] : ['patients', 'registered_at'];
  describe(`two ${engine} sources with the same ${engine === 'postgres' ? 'public' : 'clinic'}.${table}`, () => {
    const first = new CaptureHarness({ engine, tables: [[table, partition]] });
    let second: CaptureHarness;
    before(async () => {
      await first.start();
      second = new CaptureHarness({ engine, tables: [[table, partition]], rawBucket: first.bucket });
      await second.start();
    });
    after(async () => {
      await second?.stop();
      await first.stop();
    });

    it('capture both into one raw bucket, each under its own prefix, nothing overwritten', async () => {
      await first.capture().catch((err: unknown) => {
        throw new Error(explainFailure(err).message);
      });
      const afterFirst = await allKeys(first);
      await second.capture();
      const afterSecond = await allKeys(first);
      // Every object of the first source is still there with the same bytes (ETag).
      for (const [key, etag] of afterFirst) assert.equal(afterSecond.get(key), etag, `${key} was replaced`);
      for (const key of afterSecond.keys()) assert.ok([first.source, second.source].includes(parseRawKey(key).source ?? ''), `${key} is under no source`);
      const ofFirst = await listRawKeys(first.adapters.s3, first.bucket, rawTableOf(first.tables[0]!));
      const ofSecond = await listRawKeys(second.adapters.s3, second.bucket, rawTableOf(second.tables[0]!));
      assert.ok(ofFirst.length > 0 && ofSecond.length > 0);
      assert.equal(ofFirst.filter((k) => ofSecond.includes(k)).length, 0, 'the sources share a key');
      // Each source's files replay to the source table: nothing of the other mixed in.
      await first.assertRawZoneMatchesSource();
      await second.assertRawZoneMatchesSource();
      const reconciled = await Promise.all(
        [first, second].map(async (h) => {
          const key = `${h.source}.${h.schema}.${table}`;
          return (await h.client.workflow.execute('reconcileTable', { taskQueue: h.config.temporal.taskQueues.control, workflowId: h.nextId(`reconcile/${key}`), args: [{ table: key }] })) as { match: boolean };
        }),
      );
      assert.deepEqual(reconciled.map((r) => r.match), [true, true]);
    });
  });
}

describe('raw objects are written once', () => {
  const h = new CaptureHarness({ engine: 'postgres', tables: [['lab_results', 'resulted_at']] });
  before(() => h.start());
  after(() => h.stop());

  it('the local S3 server refuses If-None-Match: * on a key that exists', async () => {
    const key = `${h.source}/public/lab_results/LOAD00000001.parquet`;
    await h.adapters.s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: key, Body: 'one', IfNoneMatch: '*' }));
    await assert.rejects(h.adapters.s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: key, Body: 'two', IfNoneMatch: '*' })), (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 412);
    assert.equal(Buffer.from(await getBytes(h.adapters.s3, h.bucket, key)).toString(), 'one');
  });

  it('putObjectOnce: the same bytes again is a retry that passes, other bytes are refused and kept out', async () => {
    const key = `${h.source}/public/lab_results/LOAD00000002.parquet`;
    const body = new Uint8Array(Buffer.from('the first writer'));
    assert.equal(await putObjectOnce(h.adapters.s3, { bucket: h.bucket, key, body }), 'written');
    assert.equal(await putObjectOnce(h.adapters.s3, { bucket: h.bucket, key, body }), 'already-there');
    await assert.rejects(putObjectOnce(h.adapters.s3, { bucket: h.bucket, key, body: new Uint8Array(Buffer.from('another writer')) }), (err: unknown) => err instanceof ObjectConflictError && err.message.includes(key));
    assert.equal(Buffer.from(await getBytes(h.adapters.s3, h.bucket, key)).toString(), 'the first writer');
  });

  it('finds a raw zone of the old layout and moves it under its source, records included', async () => {
    const t = h.tables[0]!;
    const legacy = ['public/lab_results/LOAD00000003.parquet', 'public/lab_results/2026/11/23/20261123-000000000000-0000000A00000000.parquet'];
    for (const [i, key] of legacy.entries()) await h.adapters.s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: key, Body: `legacy ${i}` }));
    await h.controlPlane.planLakeBatch({ batchId: `legacy-${h.source}`, tableId: t.tableId, files: [{ key: legacy[0]!, size: 8 }] });
    const found = await findLegacyRawFiles(h.adapters.s3, h.bucket, await h.controlPlane.listTables());
    assert.deepEqual(found.map((f) => [f.prefix, f.sources, f.keys.length]), [['public/lab_results/', [h.source], 2]]);

    // A second source with the same table: whose the old files are cannot be known, so it asks.
    await h.controlPlane.upsertSource({ name: `${h.source}_b`, engine: 'postgres', database: 'labs', connectionSecret: 'DANAU_SOURCE_LABS_URL', description: 'test' }, 'test');
    await h.onboard('lab_results', 'resulted_at', true, { source: `${h.source}_b` });
    await assert.rejects(moveLegacyRawFiles(h.adapters.s3, h.bucket, h.controlPlane, { actor: 'test' }), /public\.lab_results: onboarded in sources .*--owner public\.lab_results=<source>/);

    const moved = await moveLegacyRawFiles(h.adapters.s3, h.bucket, h.controlPlane, { actor: 'test', owners: new Map([['public.lab_results', h.source]]) });
    assert.deepEqual(moved.map((m) => [m.table, m.moved]), [[`${h.source}.public.lab_results`, 2]]);
    assert.deepEqual(await findLegacyRawFiles(h.adapters.s3, h.bucket, await h.controlPlane.listTables()), []);
    for (const [i, key] of legacy.entries()) assert.equal(Buffer.from(await getBytes(h.adapters.s3, h.bucket, `${h.source}/${key}`)).toString(), `legacy ${i}`);
    assert.ok((await h.controlPlane.consumedLakeFiles(t.tableId)).has(`${h.source}/${legacy[0]}`), 'the lake record follows the file');
  });
});
