import type { SourceRecord } from '../sources/types';
import { MysqlCapture } from './mysql';
import { PostgresCapture } from './postgres';
import type { SourceCapture } from './source-capture';

export * from './source-capture';

/**
 * One capture connection per source for the life of a worker. The connection string is resolved by
 * the caller at each use (lib/secrets): when it changes (a rotated secret), the old connection is
 * closed and a new one opened.
 */
export class CaptureConnections {
  private readonly open = new Map<string, { connectionString: string; capture: SourceCapture }>();

  get(source: SourceRecord, connectionString: string): SourceCapture {
    const key = [source.sourceName, source.engine, source.databaseName].join('|');
    const open = this.open.get(key);
    if (open && open.connectionString === connectionString) return open.capture;
    const capture =
      source.engine === 'postgres'
        ? new PostgresCapture(connectionString, source.sourceName)
        : new MysqlCapture(connectionString, source.sourceName, source.databaseName);
    this.open.set(key, { connectionString, capture });
    // Capture of a source runs one window at a time, so nothing is reading the old one now.
    if (open) void open.capture.close().catch(() => undefined);
    return capture;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.values()].map((o) => o.capture.close()));
    this.open.clear();
  }
}
