import type { SourceRecord } from '../sources/types';
import { MysqlCapture } from './mysql';
import { PostgresCapture } from './postgres';
import type { SourceCapture } from './source-capture';

export * from './source-capture';

/** One capture connection per source for the life of a worker. */
export class CaptureConnections {
  private readonly open = new Map<string, SourceCapture>();

  get(source: SourceRecord, connectionString: string): SourceCapture {
    const key = [source.sourceName, source.engine, source.databaseName, connectionString].join('|');
    let capture = this.open.get(key);
    if (!capture) {
      capture =
        source.engine === 'postgres'
          ? new PostgresCapture(connectionString, source.sourceName)
          : new MysqlCapture(connectionString, source.sourceName, source.databaseName);
      this.open.set(key, capture);
    }
    return capture;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.values()].map((c) => c.close()));
    this.open.clear();
  }
}
