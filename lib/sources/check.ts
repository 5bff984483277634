// Can this worker use a source? Resolves its secret and connects, as capture and onboarding will,
// and says what is missing in words an operator can act on. Messages name the secret reference,
// host, port, user and database, never the password or the secret's value.
import type { SecretProvider } from '../secrets';
import { openSource, resolveConnectionUrl, SourceConnectionError } from './index';
import type { SourceRecord } from './types';

export type SourceCheckProblem = 'secret' | 'connection-refused' | 'host-not-found' | 'timeout' | 'auth-failed' | 'database-missing' | 'other';

export interface SourceCheckResult {
  source: string;
  ok: boolean;
  /** What the secret reference names, e.g. "environment variable DANAU_SOURCE_LABS_URL". */
  secret: string;
  problem?: SourceCheckProblem;
  message: string;
}

function endpoint(url: string): { where: string; user: string; database: string } {
  try {
    const u = new URL(url);
    return { where: `${u.hostname}:${u.port || '(default port)'}`, user: decodeURIComponent(u.username), database: decodeURIComponent(u.pathname.replace(/^\//, '')) };
  } catch {
    return { where: '(unparsable address)', user: '?', database: '?' };
  }
}

/** Sorts a driver's connection error (pg or mysql2) into what the operator must fix. */
export function classifyConnectionError(err: unknown, url: string): { problem: SourceCheckProblem; message: string } {
  const e = err as { code?: string; errno?: number; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code ?? '';
  const { where, user, database } = endpoint(url);
  if (code === 'ECONNREFUSED') return { problem: 'connection-refused', message: `connection refused at ${where}` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { problem: 'host-not-found', message: `host not found: ${where}` };
  if (code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) return { problem: 'timeout', message: `connection to ${where} timed out` };
  // 28P01 wrong password, 28000 no pg_hba.conf entry; ER_ACCESS_DENIED_ERROR (1045) in MySQL.
  if (code === '28P01' || code === '28000' || code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
    return { problem: 'auth-failed', message: `authentication failed for user ${user} at ${where}` };
  }
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR') return { problem: 'database-missing', message: `database ${database} does not exist at ${where}` };
  // Anything else: the driver's code only, as a message may quote what it was given.
  return { problem: 'other', message: `cannot connect to ${where} (${code || (err instanceof Error ? err.name : 'unknown error')})` };
}

export async function checkSource(source: SourceRecord, secrets: SecretProvider): Promise<SourceCheckResult> {
  const base = { source: source.sourceName, secret: secrets.describe(source.connectionSecret) };
  let url: string;
  try {
    // Read anew: someone who just fixed a secret wants to know about the fix, and the refreshed
    // value is what capture and onboarding use from now on.
    url = await resolveConnectionUrl(source, secrets, { fresh: true });
  } catch (err) {
    if (err instanceof SourceConnectionError) return { ...base, ok: false, problem: 'secret', message: err.message };
    throw err;
  }
  const db = openSource(source.engine, url);
  try {
    await db.ping();
  } catch (err) {
    const { problem, message } = classifyConnectionError(err, url);
    return { ...base, ok: false, problem, message: `source ${source.sourceName}: ${base.secret} resolves, but ${message}` };
  } finally {
    await db.close().catch(() => undefined);
  }
  const { where, database } = endpoint(url);
  return { ...base, ok: true, message: `source ${source.sourceName}: connected to ${source.engine} database ${database} at ${where} with ${base.secret}` };
}
