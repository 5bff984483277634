// Issue 12 on PostgreSQL: a table whose columns have spaces, mixed case, reserved words and a quote
// in their names is onboarded with lake names, captured (full load and changes) with its names
// quoted as PostgreSQL quotes them, and reconciled; the raw files keep the source's names, as DMS
// writes them. A table whose names differ only in case is refused at onboarding, naming both.
// Real Temporal, PostgreSQL (logical replication) and S3 server; scratch tables.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { WorkflowFailedError } from '@temporalio/client';
import { ErrorType } from '../../lib/common/errors';
import { WorkflowId } from '../../lib/common/temporal';
import { readRawFileInfo } from '../../lib/raw-zone/read';
import { explainFailure } from '../../lib/temporal/client';
import type { ReconcileTableResult } from '../../workflows/reconcileTable';
import { CaptureHarness } from '../support/capture-harness';
import { getBytes, listRawKeys } from '../support/replay';
import { uniqueSuffix } from '../support/stack';

describe('captureSource with source column names (PostgreSQL)', () => {
  const table = `dispensing_${uniqueSuffix()}`;
  const h = new CaptureHarness({ engine: 'postgres', tables: [[table, 'Dispensed At', { precombineField: 'Updated At' }]] });
  const clash = `${table}_clash`;
  const admin = new pg.Client({ connectionString: h.sourceUrl });
  const sourceNames = ['Dispense ID', 'Dispensed By', 'order', 'group', 'Say "Hi"', 'MixedCase', 'Dispensed At', 'Updated At'];

  before(async () => {
    await admin.connect();
    await admin.query(`CREATE TABLE public.${table} (
      "Dispense ID" bigint PRIMARY KEY, "Dispensed By" text, "order" integer, "group" text, "Say ""Hi""" text, "MixedCase" text,
      "Dispensed At" timestamptz NOT NULL, "Updated At" timestamptz NOT NULL)`);
    await admin.query(`INSERT INTO public.${table} SELECT g, 'apt. ' || g, g * 10, 'g' || (g % 2), 'hi ' || g, 'Mc' || g, now() - g * interval '1 day', now()
                         FROM generate_series(1, 5) g`);
    await h.start();
  });
  after(async () => {
    await h.stop();
    await admin.query(`DROP TABLE IF EXISTS public.${table}, public.${clash}`);
    await admin.end();
  });

  it('onboards the columns with lake names and keeps the source names on record', () => {
    assert.deepEqual(
      h.tables[0]!.columns.map((c) => [c.name, c.lakeName]),
      [
        ['Dispense ID', 'dispense_id'],
        ['Dispensed By', 'dispensed_by'],
        ['order', 'order'],
        ['group', 'group'],
        ['Say "Hi"', 'say_hi'],
        ['MixedCase', 'mixedcase'],
        ['Dispensed At', 'dispensed_at'],
        ['Updated At', 'updated_at'],
      ],
    );
  });

  it('captures the full load, and the raw file holds the values under the source names', async () => {
    const status = await h.capture();
    assert.deepEqual(status.last!.loaded.map((l) => l.rows), [5]);
    const [key] = await listRawKeys(h.adapters.s3, h.bucket, { source: h.source, schema: 'public', table });
    const info = await readRawFileInfo(key!, await getBytes(h.adapters.s3, h.bucket, key!));
    const names = info.schema.slice(1).map((e) => e.name);
    assert.deepEqual(names.slice(-sourceNames.length), sourceNames);
    await h.assertRawZoneMatchesSource();
  });

  it('captures inserts, updates (of the key too) and deletes, and reconciles against the source', async () => {
    await admin.query(`INSERT INTO public.${table} VALUES (6, 'new', 60, 'g0', 'quote "x"', 'Mc6', now(), now())`);
    await admin.query(`UPDATE public.${table} SET "Dispensed By" = 'changed', "order" = "order" + 1, "Updated At" = now() WHERE "Dispense ID" = 2`);
    await admin.query(`UPDATE public.${table} SET "Dispense ID" = 7, "Updated At" = now() WHERE "Dispense ID" = 3`);
    await admin.query(`DELETE FROM public.${table} WHERE "Dispense ID" = 4`);
    const status = await h.capture();
    assert.ok(status.last!.changes >= 5, `captured ${status.last!.changes} changes`);
    await h.assertRawZoneMatchesSource();

    const ref = `${h.source}.public.${table}`;
    const reconciled = (await h.client.workflow.execute('reconcileTable', {
      taskQueue: h.config.temporal.taskQueues.control,
      workflowId: h.nextId(WorkflowId.reconcileTable(ref)),
      args: [{ table: ref }],
    })) as ReconcileTableResult;
    assert.equal(reconciled.match, true, JSON.stringify(reconciled));
    assert.equal(reconciled.source.rows, 5);
  });

  it('refuses, through onboardTable, a table whose column names differ only in case, naming both', async () => {
    await admin.query(`CREATE TABLE public.${clash} (id bigint PRIMARY KEY, "Code" text, "code" text, updated_at timestamptz NOT NULL)`);
    const input = { source: h.source, schema: 'public', table: clash, precombineField: 'updated_at', partitionField: 'updated_at' };
    const failure = await h.client.workflow
      .execute('onboardTable', { taskQueue: h.config.temporal.taskQueues.control, workflowId: h.nextId(WorkflowId.onboardTable(input)), args: [input] })
      .then(
        () => assert.fail('the table was onboarded'),
        (err: unknown) => {
          assert.ok(err instanceof WorkflowFailedError, String(err));
          return explainFailure(err);
        },
      );
    assert.equal(failure.type, ErrorType.InvalidTableDefinition);
    assert.match(failure.message, /columns "Code" and "code" would share the lake name code/);
    assert.equal(await h.controlPlane.getTable(h.source, 'public', clash), null, 'nothing recorded');
  });
});
