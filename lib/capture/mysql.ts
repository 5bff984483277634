// Local capture from MySQL/MariaDB, the stand-in for a DMS task: the row-based binlog read with
// @vlasky/zongji (on our mysql2), windows bounded by binlog positions. A window ends where the binlog
// ended when it started (or after about maxChanges changes, at a commit), and that end is what a
// redone window reads up to, so the same window always gives the same files.
import mysql from 'mysql2/promise';
import type ZongJiType from '@vlasky/zongji' with { 'resolution-mode': 'import' };
import type { AnyBinlogEvent, ColumnSchema, RowData } from '@vlasky/zongji' with { 'resolution-mode': 'import' };
import type { SourceValue } from '../raw-zone/dms-file';
import { quoteSourceIdent, quoteSourceQualified } from '../sql/identifiers';
import { lakeColumnName } from '../tables/lake-names';
import type { LakeColumn } from '../tables/definition';
import { mysqlLakeType } from '../tables/lake-types';
import { CaptureError, type CaptureWindowRead, type CapturedTable, type SnapshotPoint, type SnapshotReader, type SourceCapture, type StreamState } from './source-capture';
import type { CapturedChange, CapturedTransaction } from './window';

/**
 * The lake type of a column as the binlog's table map describes it (from the event's own metadata
 * with binlog_row_metadata=FULL, else from the catalog), through the same mapping as onboarding: a
 * column retyped after onboarding then shows in the files and the schema-drift check names it. A
 * bare `tinyint` from binlog metadata has lost its display width, so an onboarded boolean stays one.
 */
export function lakeColumnOfBinlog(c: ColumnSchema, known: LakeColumn | undefined): LakeColumn {
  const columnType = c.COLUMN_TYPE.replace(/\s*\/\*.*\*\/\s*/g, '').toLowerCase();
  const dataType = /^[a-z]+/.exec(columnType)?.[0] ?? columnType;
  const precision = /^(?:decimal|numeric)\((\d+),(\d+)\)/.exec(columnType);
  const unsigned = c.UNSIGNED ?? /unsigned/.test(columnType);
  const mapped = mysqlLakeType({
    name: c.COLUMN_NAME,
    dataType,
    columnType: unsigned && !/unsigned/.test(columnType) ? `${columnType} unsigned` : columnType,
    nullable: known?.nullable ?? true,
    numericPrecision: precision ? Number(precision[1]) : null,
    numericScale: precision ? Number(precision[2]) : null,
  });
  if (!('lakeType' in mapped)) return known ?? { name: c.COLUMN_NAME, lakeName: lakeColumnName(c.COLUMN_NAME), sourceType: columnType, lakeType: 'string', nullable: true };
  const widthLost = known?.lakeType === 'boolean' && (columnType === 'tinyint' || columnType === 'bit(1)');
  if (known && (known.lakeType === mapped.lakeType || widthLost)) return known;
  return { name: c.COLUMN_NAME, lakeName: known?.lakeName ?? lakeColumnName(c.COLUMN_NAME), sourceType: known ? `${columnType} (was ${known.sourceType})` : columnType, lakeType: mapped.lakeType, nullable: known?.nullable ?? true };
}

export interface BinlogPosition {
  file: string;
  position: number;
}

export function formatBinlogPosition(p: BinlogPosition): string {
  return `${p.file}:${p.position}`;
}

export function parseBinlogPosition(s: string): BinlogPosition {
  const m = /^(.+\.\d+):(\d+)$/.exec(s);
  if (!m) throw new Error(`not a binlog position (file:offset): ${s}`);
  return { file: m[1]!, position: Number(m[2]) };
}

/** Fixed-width and increasing with binlog order: file number (6 digits) then offset (12 digits). */
export function binlogKey(p: BinlogPosition): string {
  const n = /\.(\d+)$/.exec(p.file)?.[1];
  if (!n) throw new Error(`binlog file without a sequence number: ${p.file}`);
  return `${n.padStart(6, '0')}${String(p.position).padStart(12, '0')}`;
}

const IDLE_MS = 1_500;
const READ_START_TIMEOUT_MS = 30_000;

function compare(a: BinlogPosition, b: BinlogPosition): number {
  return a.file === b.file ? a.position - b.position : a.file < b.file ? -1 : 1;
}

/** A value as mysql2/zongji gives it, in the text-or-bytes form the raw-file writer types. */
function sourceValue(v: unknown): SourceValue {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

const keyPart = (v: unknown): string => {
  const s = sourceValue(v);
  return s === null ? '\u0000null' : typeof s === 'string' ? s : Buffer.from(s).toString('hex');
};

export class MysqlCapture implements SourceCapture {
  private readonly pool: mysql.Pool;

  constructor(private readonly connectionString: string, private readonly sourceName: string, private readonly database: string) {
    // Dates as strings (no time-zone shifts, no lost microseconds); big numbers and JSON as exact text
    // (mysql2 otherwise parses MariaDB's JSON and prints it back compacted: the load and the binlog
    // would then disagree on the same value).
    this.pool = mysql.createPool({ uri: connectionString, connectionLimit: 2, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, jsonStrings: true, timezone: 'Z' });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async prepare(): Promise<void> {
    const [rows] = await this.pool.query<mysql.RowDataPacket[]>("SELECT @@binlog_format AS format, @@binlog_row_image AS image, @@log_bin AS on_");
    const r = rows[0]!;
    if (Number(r.on_) !== 1 || r.format !== 'ROW' || r.image !== 'FULL') {
      throw new CaptureError(`source ${this.sourceName}: the binlog must be on with binlog_format=ROW and binlog_row_image=FULL (found log_bin=${r.on_}, ${r.format}, ${r.image})`, 'bad-data');
    }
  }

  async streamState(savedPosition: string | null, _retryingFirstSnapshot: boolean): Promise<StreamState> {
    if (!savedPosition) return 'new';
    const saved = parseBinlogPosition(savedPosition);
    const [logs] = await this.pool.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
    return logs.some((l) => l.Log_name === saved.file) ? 'ok' : 'lost';
  }

  async withSnapshot<T>(_first: boolean, work: (reader: SnapshotReader, point: SnapshotPoint) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    try {
      // TIMESTAMP values print in the session's zone: UTC, as the binlog path writes them.
      await conn.query("SET time_zone = '+00:00'");
      await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      // MariaDB reports the binlog position that matches this very snapshot: the seam between the
      // full load and the CDC, with no change lost or doubled.
      const [status] = await conn.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
      const get = (name: string) => status.find((s) => String(s.Variable_name).toLowerCase() === name)?.Value as string | undefined;
      const file = get('binlog_snapshot_file');
      const position = Number(get('binlog_snapshot_position'));
      if (!file) throw new CaptureError(`source ${this.sourceName}: the server reports no binlog snapshot position (is the binlog on?)`, 'bad-data');
      const point = { file, position };
      const reader: SnapshotReader = {
        readTable: async (table, batchRows, onBatch) => {
          // Source names as the source spells them (issue 12), backticks in a name doubled.
          const cols = table.columns.map((c) => quoteSourceIdent(c.name, 'mysql')).join(', ');
          const key = table.primaryKey.map((k) => quoteSourceIdent(k, 'mysql'));
          let last: unknown[] | null = null;
          let total = 0;
          for (;;) {
            const where: string = last ? `WHERE (${key.join(', ')}) > (${key.map(() => '?').join(', ')})` : '';
            const [rows]: [mysql.RowDataPacket[], mysql.FieldPacket[]] = await conn.query<mysql.RowDataPacket[]>(
              `SELECT ${cols} FROM ${quoteSourceQualified(table.schema, table.table, 'mysql')} ${where} ORDER BY ${key.join(', ')} LIMIT ${batchRows}`,
              last ?? [],
            );
            if (rows.length === 0) break;
            await onBatch(rows.map((r: mysql.RowDataPacket) => Object.fromEntries(table.columns.map((c) => [c.name, sourceValue(r[c.name])]))));
            total += rows.length;
            const tail: mysql.RowDataPacket = rows[rows.length - 1]!;
            last = table.primaryKey.map((k) => tail[k] as unknown);
          }
          return total;
        },
      };
      const result = await work(reader, { resumePosition: formatBinlogPosition(point), seqPrefix: binlogKey(point) });
      await conn.query('COMMIT');
      return result;
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  async read(tables: CapturedTable[], from: string, uptoEnd: string | null, maxChanges: number): Promise<CaptureWindowRead> {
    const start = parseBinlogPosition(from);
    let end: BinlogPosition;
    if (uptoEnd) end = parseBinlogPosition(uptoEnd);
    else {
      const [rows] = await this.pool.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
      end = { file: rows[0]!.File as string, position: Number(rows[0]!.Position) };
    }
    if (compare(start, end) >= 0) return { transactions: [], endPosition: null };

    const { default: ZongJi } = await import('@vlasky/zongji');
    const byName = new Map(tables.map((t) => [`${t.schema}.${t.table}`, t]));
    const includeSchema: Record<string, string[]> = {};
    for (const t of tables) (includeSchema[t.schema] ??= []).push(t.table);
    const columnsCache = new Map<string, LakeColumn[]>();
    const zongji: ZongJiType = new ZongJi({ uri: this.connectionString, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, jsonStrings: true, timezone: 'Z' });

    return new Promise<CaptureWindowRead>((resolve, reject) => {
      const transactions: CapturedTransaction[] = [];
      let changes: CapturedChange[] = [];
      let total = 0;
      let file = start.file;
      let reached: BinlogPosition | null = null;
      let finished = false;
      let idle: NodeJS.Timeout | undefined;
      // A binlog read that never starts is a connection problem: fail (the activity retries).
      const deadline = setTimeout(() => finish(new Error(`source ${this.sourceName}: no binlog event within ${READ_START_TIMEOUT_MS / 1000} s of starting the read`)), READ_START_TIMEOUT_MS);
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        clearTimeout(idle);
        clearTimeout(deadline);
        zongji.removeAllListeners('binlog');
        zongji.once('stopped', () => (err ? reject(err) : resolve({ transactions, endPosition: reached ? formatBinlogPosition(reached) : null })));
        zongji.stop();
      };
      // One array per distinct column list, so a window's file splits only where the schema changed.
      const columnsOf = (t: CapturedTable, schemas: ColumnSchema[]): LakeColumn[] => {
        const known = new Map(t.columns.map((c) => [c.name, c]));
        const cols = schemas.map((c) => lakeColumnOfBinlog(c, known.get(c.COLUMN_NAME)));
        const cacheKey = `${t.key}|${cols.map((c) => `${c.name}:${c.lakeType}`).join(',')}`;
        const cached = columnsCache.get(cacheKey);
        if (cached) return cached;
        columnsCache.set(cacheKey, cols);
        return cols;
      };
      const rowValues = (cols: LakeColumn[], row: RowData) => Object.fromEntries(cols.map((c) => [c.name, sourceValue(row[c.name])]));

      zongji.on('binlog', (e: AnyBinlogEvent) => {
        clearTimeout(deadline);
        // The server sends what exists and then waits. Once it has been quiet for a moment, every
        // event before the window's end has been delivered (or filtered out as another schema's),
        // whatever event the binlog happens to end with.
        clearTimeout(idle);
        idle = setTimeout(() => {
          if (changes.length > 0) return;
          if (!reached || compare(reached, end) < 0) reached = end;
          finish();
        }, IDLE_MS);
        try {
          const name = e.getEventName();
          if (name === 'rotate' && 'binlogName' in e) {
            file = e.binlogName;
            return;
          }
          if (name === 'writerows' || name === 'updaterows' || name === 'deleterows') {
            const entry = 'tableMap' in e && 'tableId' in e ? e.tableMap[e.tableId] : undefined;
            const table = entry ? byName.get(`${entry.parentSchema}.${entry.tableName}`) : undefined;
            if (entry && table && 'rows' in e) {
              const cols = columnsOf(table, entry.columnSchemas);
              for (const r of e.rows as unknown[]) {
                if (name === 'updaterows') {
                  const { before, after } = r as { before: RowData; after: RowData };
                  // Downstream applies changes by key: a changed key is the old key's delete and the new key's insert.
                  if (table.primaryKey.some((k) => keyPart(before[k]) !== keyPart(after[k]))) {
                    changes.push({ table: table.key, op: 'D', columns: cols, values: rowValues(cols, before) });
                    changes.push({ table: table.key, op: 'I', columns: cols, values: rowValues(cols, after) });
                  } else changes.push({ table: table.key, op: 'U', columns: cols, values: rowValues(cols, after) });
                }
                else changes.push({ table: table.key, op: name === 'writerows' ? 'I' : 'D', columns: cols, values: rowValues(cols, r as RowData) });
              }
            }
          }
          if (name === 'xid') {
            const at = { file, position: e.nextPosition };
            if (compare(at, end) > 0) {
              // Committed after this window's end: it belongs to the next window.
              changes = [];
              reached = end;
              finish();
              return;
            }
            if (changes.length) {
              const ts = new Date(e.timestamp).toISOString();
              transactions.push({ commitTimestamp: `${ts.slice(0, 10)} ${ts.slice(11, 19)}.000000`, position: binlogKey(at), changes });
              total += changes.length;
            }
            changes = [];
            reached = at;
            if (compare(at, end) >= 0 || (!uptoEnd && total >= maxChanges)) finish();
            return;
          }
          // Outside a transaction any event (DDL, checkpoint, another schema's) can be the window's end.
          if (changes.length === 0 && e.nextPosition > 0 && compare({ file, position: e.nextPosition }, end) >= 0) {
            reached = end;
            finish();
          }
        } catch (err) {
          finish(err as Error);
        }
      });
      zongji.on('error', (err: Error) => {
        const message = /Could not find first log file/i.test(err.message)
          ? `source ${this.sourceName}: binlog ${start.file} is gone (purged): changes after ${from} cannot be read; re-snapshot the source's tables`
          : `source ${this.sourceName}: binlog read failed: ${err.message}`;
        // A purged binlog cannot be read again; anything else (a dropped connection) is retried.
        finish(/purged/.test(message) ? new CaptureError(message, 'lost-position') : new Error(message));
      });
      zongji.start({
        serverId: 100_000 + Math.floor(Math.random() * 1_000_000),
        filename: start.file,
        position: start.position,
        includeSchema: Object.fromEntries(Object.entries(includeSchema).map(([s, t]) => [s, t])),
        excludeEvents: ['heartbeat'],
      });
    });
  }

  async release(): Promise<void> {
    // The binlog is the server's to expire (binlog_expire_logs_seconds); nothing to confirm.
  }
}
