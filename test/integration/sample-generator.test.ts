// The sample change generator against the real sources: what it reports is what happened.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { generateChanges } from '../../scripts/sample/generator';
import { testConfig } from '../support/stack';

const env = testConfig().environment;

async function counts(): Promise<Record<string, number>> {
  const clinic = await mysql.createConnection({ uri: env.DANAU_SOURCE_CLINIC_URL! });
  const labs = new pg.Client({ connectionString: env.DANAU_SOURCE_LABS_URL! });
  await labs.connect();
  try {
    const out: Record<string, number> = {};
    for (const t of ['patients', 'appointments']) {
      const [[row]] = await clinic.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${t}`);
      out[`clinic.${t}`] = Number(row!.n);
    }
    for (const t of ['lab_orders', 'lab_results']) {
      const { rows } = await labs.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`);
      out[`labs.${t}`] = Number(rows[0]!.n);
    }
    return out;
  } finally {
    await clinic.end();
    await labs.end();
  }
}

describe('sample change generator', () => {
  it('changes the sources by exactly the inserts and deletes it reports', async () => {
    const before = await counts();
    const report = await generateChanges(env, { changes: 40, seed: 7 });
    const after = await counts();
    const total = Object.values(report).reduce((n, c) => n + c.inserted + c.updated + c.deleted, 0);
    assert.ok(total > 0, 'it made no change');
    for (const table of Object.keys(after)) {
      const c = report[table] ?? { inserted: 0, updated: 0, deleted: 0 };
      assert.equal(after[table]! - before[table]!, c.inserted - c.deleted, `row count of ${table}`);
    }
    assert.ok(Object.keys(report).some((t) => t.startsWith('clinic.')) && Object.keys(report).some((t) => t.startsWith('labs.')));
  });
});
