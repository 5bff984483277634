import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../common/errors';
import { SecretUnavailableError, type SecretProvider } from '../secrets';
import { MysqlSource } from './mysql';
import { PostgresSource } from './postgres';
import type { SourceDatabase, SourceEngine, SourceRecord, SourceTableDescription } from './types';

export * from './types';

/** The source's secret cannot be had or does not hold a connection string: retrying will not help. */
export class SourceConnectionError extends Error {
  constructor(
    readonly sourceName: string,
    message: string,
  ) {
    super(message);
    this.name = 'SourceConnectionError';
  }

  /** The non-retryable failure activities raise for it. */
  toFailure(prefix = ''): ApplicationFailure {
    return ApplicationFailure.create({ message: `${prefix}${this.message}`, type: ErrorType.SourceMisconfigured, nonRetryable: true });
  }
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A secret holds a connection URL, or JSON: {"url": "..."}, or the fields an RDS-managed secret has
 * ({host, port, username, password, dbname}), so that RDS rotation can own the password.
 */
export function connectionUrlFromSecret(engine: SourceEngine, databaseName: string, value: string): string | null {
  const text = value.trim();
  if (URL_SCHEME.test(text)) return text;
  if (!text.startsWith('{')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object') return null;
  const o = parsed as Record<string, unknown>;
  if (typeof o.url === 'string' && URL_SCHEME.test(o.url)) return o.url;
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const [host, username, password] = [str(o.host), str(o.username), str(o.password)];
  if (!host || !username || password === undefined) return null;
  const port = str(o.port) ?? (engine === 'mysql' ? '3306' : '5432');
  const database = str(o.dbname) ?? databaseName;
  const scheme = engine === 'mysql' ? 'mysql' : 'postgres';
  return `${scheme}://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
}

/** Resolves a source's connection URL now, through the secret provider (`fresh`: not from its cache). */
export async function resolveConnectionUrl(source: SourceRecord, secrets: SecretProvider, options: { fresh?: boolean } = {}): Promise<string> {
  let value: string;
  try {
    value = await secrets.resolve(source.connectionSecret, options);
  } catch (err) {
    if (err instanceof SecretUnavailableError) throw new SourceConnectionError(source.sourceName, `source ${source.sourceName}: ${err.message}`);
    throw err;
  }
  const url = connectionUrlFromSecret(source.engine, source.databaseName, value);
  if (!url) {
    throw new SourceConnectionError(
      source.sourceName,
      `source ${source.sourceName}: ${secrets.describe(source.connectionSecret)} does not hold a connection URL (such as postgres://user:password@host:port/db) or JSON with url, or host, username and password`,
    );
  }
  return url;
}

export function openSource(engine: SourceEngine, url: string): SourceDatabase {
  return engine === 'mysql' ? new MysqlSource(url) : new PostgresSource(url);
}

/**
 * One open connection per source, its URL resolved through the secret provider at each use: a source
 * added after the worker started is found, and a rotated secret (seen once the provider's TTL has
 * passed) replaces the connection.
 */
export class SourceConnections {
  private readonly open = new Map<string, { url: string; db: SourceDatabase }>();
  constructor(readonly secrets: SecretProvider) {}

  /** The connection URL; a missing or unusable secret is a non-retryable SourceMisconfigured failure. */
  async connectionUrl(source: SourceRecord): Promise<string> {
    try {
      return await resolveConnectionUrl(source, this.secrets);
    } catch (err) {
      if (err instanceof SourceConnectionError) throw err.toFailure();
      throw err;
    }
  }

  /** A catalog reader for the source; the secret is resolved when it is used. */
  get(source: SourceRecord): SourceDatabase {
    const current = () => this.connect(source);
    return {
      engine: source.engine,
      describeTable: async (schema, table): Promise<SourceTableDescription | null> => (await current()).describeTable(schema, table),
      readKeys: async (schema, table, primaryKey) => (await current()).readKeys(schema, table, primaryKey),
      ping: async () => (await current()).ping(),
      // The connection is shared and closed by closeAll.
      close: () => Promise.resolve(),
    };
  }

  private async connect(source: SourceRecord): Promise<SourceDatabase> {
    const url = await this.connectionUrl(source);
    const key = [source.sourceName, source.engine, source.databaseName].join('|');
    const open = this.open.get(key);
    if (open && open.url === url) return open.db;
    const db = openSource(source.engine, url);
    this.open.set(key, { url, db });
    // A superseded connection (rotated secret, changed source): queries under way on it finish first.
    if (open) void open.db.close().catch(() => undefined);
    return db;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.values()].map((o) => o.db.close()));
    this.open.clear();
  }
}
