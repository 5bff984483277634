import { MysqlSource } from './mysql';
import { PostgresSource } from './postgres';
import type { SourceDatabase, SourceRecord } from './types';

export * from './types';

export class SourceConnectionError extends Error {}

/** Opens a connection to a registered source, reading its connection string from `environment`. */
export function openSource(source: SourceRecord, environment: Readonly<Record<string, string | undefined>>): SourceDatabase {
  const url = environment[source.connectionEnv];
  if (!url) {
    throw new SourceConnectionError(
      `source ${source.sourceName}: environment variable ${source.connectionEnv} (connection_env) is not set`,
    );
  }
  return source.engine === 'mysql' ? new MysqlSource(url) : new PostgresSource(url);
}

/** Keeps one open connection per source for the life of a worker. */
export class SourceConnections {
  private readonly open = new Map<string, SourceDatabase>();
  constructor(private readonly environment: Readonly<Record<string, string | undefined>>) {}

  get(source: SourceRecord): SourceDatabase {
    // Keyed by everything that decides the connection, so `danau sources add` with new settings
    // takes effect without restarting the worker.
    const key = [source.sourceName, source.engine, source.connectionEnv, source.databaseName].join('|');
    let db = this.open.get(key);
    if (!db) {
      db = openSource(source, this.environment);
      this.open.set(key, db);
    }
    return db;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.values()].map((db) => db.close()));
    this.open.clear();
  }
}
