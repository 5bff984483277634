// What tests share: configuration pointed at the local stack's test namespace, and scratch databases
// so that tests never touch the demo's control plane. Requires `danau stack up` (npm test does it).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type DanauConfig } from '../../lib/config';
import { migrate } from '../../lib/control-plane/migrate';
import { ControlPlane } from '../../lib/control-plane/store';

/** Workflow tests run in their own namespace, so a demo worker never picks up their tasks. */
export const TEST_NAMESPACE = process.env.DANAU_TEST_NAMESPACE ?? 'danau-test';

export function uniqueSuffix(): string {
  return `${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** Each test process has task queues of its own: a demo, a benchmark or another suite never takes its tasks. */
export const TEST_QUEUE_PREFIX = `danau-test-${process.pid}-`;

export function testConfig(overrides: Record<string, string> = {}): DanauConfig {
  return loadConfig({ ...process.env, TEMPORAL_NAMESPACE: TEST_NAMESPACE, DANAU_TASK_QUEUE_PREFIX: TEST_QUEUE_PREFIX, DANAU_LOG_LEVEL: 'warn', ...overrides });
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty PostgreSQL database on the stack's cluster. */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const adminUrl = testConfig().controlDatabaseUrl;
  const name = `${prefix}_${uniqueSuffix()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        // FORCE cannot end a backend of another role (an autovacuum worker on the fresh database,
        // now and then): wait for it and try again.
        for (let attempt = 1; ; attempt++) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            return;
          } catch (err) {
            if ((err as { code?: string }).code !== '42501' || attempt >= 20) throw err;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      } finally {
        await c.end();
      }
    },
  };
}

/** A scratch control plane with every migration applied. */
export async function createScratchControlPlane(): Promise<{ db: ScratchDatabase; controlPlane: ControlPlane }> {
  const db = await createScratchDatabase('danau_test_control');
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return { db, controlPlane: ControlPlane.connect(db.url) };
}
