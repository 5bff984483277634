// Local capture from PostgreSQL, the stand-in for a DMS task: a publication of the captured tables,
// a logical replication slot per source with the pgoutput plugin, and windows read with
// pg_logical_slot_peek_binary_changes. Peeking does not consume: the slot is advanced only after a
// window's files are in S3, so a worker killed at any point loses nothing.
import pg from 'pg';
import { quoteIdent, quoteSourceIdent, quoteSourceQualified } from '../sql/identifiers';
import { lakeColumnName } from '../tables/lake-names';
import type { SourceValue } from '../raw-zone/dms-file';
import type { LakeColumn } from '../tables/definition';
import { postgresLakeType } from '../tables/lake-types';
import { decodePgoutput, parseLsn, pgTimeToUnixMicros, type Relation, type RelationColumn, type TupleValue } from './pgoutput';
import { CaptureError, type CaptureWindowRead, type CapturedTable, type SnapshotPoint, type SnapshotReader, type SourceCapture, type StreamState } from './source-capture';
import type { CapturedChange, CapturedTransaction } from './window';

/** Every value in PostgreSQL's text form: no parsing into JS numbers or Dates. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

function keyChanged(primaryKey: string[], columns: LakeColumn[], before: TupleValue[], after: TupleValue[]): boolean {
  return primaryKey.some((k) => {
    const i = columns.findIndex((c) => c.name === k);
    return i >= 0 && typeof before[i] === 'string' && before[i] !== after[i];
  });
}

/** Fixed-width hex: LSNs compare as text in change sequences and object keys. */
export function lsnKey(lsn: string | bigint): string {
  const v = typeof lsn === 'bigint' ? lsn : parseLsn(lsn);
  return v.toString(16).toUpperCase().padStart(16, '0');
}

/** Commit time as DMS writes it: UTC, microseconds. */
export function commitTimestampOf(pgMicros: bigint): string {
  const unix = pgTimeToUnixMicros(pgMicros);
  const fraction = unix % 1_000_000n;
  const iso = new Date(Number((unix - fraction) / 1000n)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${fraction.toString().padStart(6, '0')}`;
}

// Type names (as information_schema spells them) of the built-in types a relation message can carry,
// by OID, so a column's lake type comes from what the source sends now and goes through the same
// mapping as onboarding: a column added or retyped after onboarding then shows in the files, and the
// schema-drift check can name it.
const OID_TYPE_NAMES: Record<number, string> = {
  16: 'boolean',
  17: 'bytea',
  20: 'bigint',
  21: 'smallint',
  23: 'integer',
  25: 'text',
  114: 'json',
  700: 'real',
  701: 'double precision',
  1042: 'character',
  1043: 'character varying',
  1082: 'date',
  1083: 'time without time zone',
  1114: 'timestamp without time zone',
  1184: 'timestamp with time zone',
  1186: 'interval',
  1266: 'time with time zone',
  1700: 'numeric',
  2950: 'uuid',
  3802: 'jsonb',
};

/**
 * The lake type of a column as the relation message describes it. A type this table does not know
 * (a domain, an enum, an array) keeps the onboarded lake type, so no drift is claimed that is not one.
 */
export function lakeColumnOfRelation(c: RelationColumn, known: LakeColumn | undefined): LakeColumn {
  const dataType = OID_TYPE_NAMES[c.typeOid];
  if (!dataType) return known ?? { name: c.name, lakeName: lakeColumnName(c.name), sourceType: `oid ${c.typeOid}`, lakeType: 'string', nullable: true };
  // numeric's type modifier packs precision and scale, offset by the 4-byte header (-1: unconstrained).
  const t = c.typeModifier - 4;
  const constrained = dataType === 'numeric' && c.typeModifier >= 4;
  const mapped = postgresLakeType({
    name: c.name,
    dataType,
    columnType: dataType,
    nullable: known?.nullable ?? true,
    numericPrecision: constrained ? (t >> 16) & 0xffff : null,
    numericScale: constrained ? t & 0xffff : null,
  });
  const lakeType = 'lakeType' in mapped ? mapped.lakeType : 'string';
  if (known && known.lakeType === lakeType) return known;
  return { name: c.name, lakeName: known?.lakeName ?? lakeColumnName(c.name), sourceType: known ? `${dataType} (was ${known.sourceType})` : dataType, lakeType, nullable: known?.nullable ?? true };
}

export class PostgresCapture implements SourceCapture {
  readonly slot: string;
  readonly publication: string;
  private readonly pool: pg.Pool;

  constructor(private readonly connectionString: string, private readonly sourceName: string) {
    this.slot = `danau_${sourceName}`;
    this.publication = `danau_${sourceName}`;
    // Output functions run in our session: fix how they print times, dates and floats, at connect.
    this.pool = new pg.Pool({ connectionString, max: 2, connectionTimeoutMillis: 10_000, options: '-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=3' });
    this.pool.on('error', () => undefined);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async prepare(tables: CapturedTable[]): Promise<void> {
    await this.publish(tables);
  }

  async streamState(savedPosition: string | null, retryingFirstSnapshot: boolean): Promise<StreamState> {
    const slot = await this.slotPosition();
    if (slot === null) return savedPosition ? 'lost' : 'new';
    if (!savedPosition && retryingFirstSnapshot) {
      // Our own first capture created this slot and died before its full load was recorded:
      // nothing was consumed from it, so it is dropped and the snapshot taken again.
      await this.dropSlot();
      return 'new';
    }
    if (!savedPosition) {
      throw new CaptureError(
        `source ${this.sourceName}: replication slot ${this.slot} exists but the control plane holds no position for it; to start over, drop it (SELECT pg_drop_replication_slot('${this.slot}')) and capture again`,
        'lost-position',
      );
    }
    return 'ok';
  }

  withSnapshot<T>(first: boolean, work: (reader: SnapshotReader, point: SnapshotPoint) => Promise<T>): Promise<T> {
    // The first capture creates the source's own slot; a table onboarded later gets a temporary one.
    return this.withExportedSnapshot(!first, (client, consistentPoint) =>
      work(
        { readTable: (table, batchRows, onBatch) => this.readTable(client, table, batchRows, onBatch) },
        { resumePosition: consistentPoint, seqPrefix: lsnKey(parseLsn(consistentPoint) - 1n) },
      ),
    );
  }

  /** The slot holds the position; `from` is what the control plane saved, for the caller's checks. */
  async read(tables: CapturedTable[], _from: string, uptoEnd: string | null, maxChanges: number): Promise<CaptureWindowRead> {
    if (uptoEnd) {
      // Redoing a window: the same transactions, and the same end even when its tail was quiet.
      const redo = await this.peek(tables, uptoEnd, null);
      return { transactions: redo.transactions, endPosition: uptoEnd };
    }
    // Bound the window by the WAL flushed now. pgoutput skips transactions that touch no published
    // table, so when the captured tables are quiet the peek returns nothing; the slot must still move
    // to here, or the source keeps all its WAL for us.
    const { rows } = await this.pool.query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn');
    const flushed = rows[0]!.lsn;
    const window = await this.peek(tables, flushed, maxChanges);
    const slot = await this.slotPosition();
    if (window.transactions.length === 0 && slot !== null && parseLsn(flushed) > parseLsn(slot)) return { transactions: [], endPosition: flushed };
    return window;
  }

  release(position: string): Promise<void> {
    return this.advance(position);
  }

  /** The slot's confirmed position, or null when there is no slot. */
  async slotPosition(): Promise<string | null> {
    const { rows } = await this.pool.query<{ lsn: string | null }>(
      'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
      [this.slot],
    );
    return rows.length ? (rows[0]!.lsn ?? '0/0') : null;
  }

  /** Adds tables to the source's publication (creating it first); returns the ones it added. */
  async publish(tables: CapturedTable[]): Promise<CapturedTable[]> {
    const { rows: pubs } = await this.pool.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [this.publication]);
    const { rows } = await this.pool.query<{ schemaname: string; tablename: string }>(
      'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
      [this.publication],
    );
    const published = new Set(rows.map((r) => `${r.schemaname}.${r.tablename}`));
    const missing = tables.filter((t) => !published.has(`${t.schema}.${t.table}`));
    if (missing.length === 0) return [];
    const list = missing.map((t) => quoteSourceQualified(t.schema, t.table, 'postgres')).join(', ');
    await this.pool.query(
      pubs.length ? `ALTER PUBLICATION ${quoteIdent(this.publication)} ADD TABLE ${list}` : `CREATE PUBLICATION ${quoteIdent(this.publication)} FOR TABLE ${list}`,
    );
    return missing;
  }

  /**
   * Creates a slot (the source's own, or a temporary one) and runs `work` inside the snapshot the
   * slot exported: the snapshot holds exactly the transactions that committed before the slot's
   * consistent point, and the slot decodes exactly those after it. That is the seam between a
   * table's full load and its CDC, with no change lost or doubled.
   */
  async withExportedSnapshot<T>(temporary: boolean, work: (snapshot: pg.PoolClient, consistentPoint: string) => Promise<T>): Promise<T> {
    const replication = new pg.Client({ connectionString: this.connectionString, replication: 'database' } as pg.ClientConfig);
    await replication.connect();
    try {
      const name = temporary ? `${this.slot}_load_${process.pid}_${Date.now()}` : this.slot;
      const { rows } = await replication.query<{ consistent_point: string; snapshot_name: string }>(
        `CREATE_REPLICATION_SLOT ${quoteIdent(name)} ${temporary ? 'TEMPORARY ' : ''}LOGICAL pgoutput EXPORT_SNAPSHOT`,
      );
      const { consistent_point: consistentPoint, snapshot_name: snapshotName } = rows[0]!;
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await client.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replace(/'/g, "''")}'`);
        const result = await work(client, consistentPoint);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    } finally {
      await replication.end();
    }
  }

  /** Reads a table in batches inside a snapshot transaction, every value as text. */
  async readTable(
    snapshot: pg.PoolClient,
    table: CapturedTable,
    batchRows: number,
    onBatch: (rows: Record<string, SourceValue>[]) => Promise<void>,
  ): Promise<number> {
    const cursor = quoteIdent(`danau_load_${table.table.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 60));
    // Source names as the source spells them (issue 12: `"Dispensed By"`), never checked against our own pattern.
    const cols = table.columns.map((c) => quoteSourceIdent(c.name, 'postgres')).join(', ');
    const keyOrder = table.primaryKey.map((c) => quoteSourceIdent(c, 'postgres')).join(', ');
    await snapshot.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${cols} FROM ${quoteSourceQualified(table.schema, table.table, 'postgres')} ORDER BY ${keyOrder}`);
    let total = 0;
    for (;;) {
      const { rows } = await snapshot.query<Record<string, string | null>>({ text: `FETCH ${batchRows} FROM ${cursor}`, types: TEXT_TYPES });
      if (rows.length === 0) break;
      await onBatch(rows.map((r) => this.toSourceValues(table.columns, r)));
      total += rows.length;
    }
    await snapshot.query(`CLOSE ${cursor}`);
    return total;
  }

  /**
   * Reads the committed transactions after the slot's position without consuming them: up to
   * `uptoLsn` exactly (a window being redone), or up to about `maxChanges` changes.
   */
  async peek(tables: CapturedTable[], uptoLsn: string | null, maxChanges: number | null): Promise<CaptureWindowRead> {
    const byName = new Map(tables.map((t) => [`${t.schema}.${t.table}`, t]));
    const { rows } = await this.pool.query<{ lsn: string; data: Buffer }>(
      `SELECT lsn::text AS lsn, data FROM pg_logical_slot_peek_binary_changes($1, $2::pg_lsn, $3,
         'proto_version', '1', 'publication_names', $4)`,
      [this.slot, uptoLsn, maxChanges, this.publication],
    );
    const relations = new Map<number, { relation: Relation; table: CapturedTable | undefined; columns: LakeColumn[] }>();
    const transactions: CapturedTransaction[] = [];
    let current: CapturedChange[] | null = null;
    let endLsn: string | null = null;
    for (const row of rows) {
      const m = decodePgoutput(row.data);
      switch (m.tag) {
        case 'begin':
          current = [];
          break;
        case 'relation': {
          const table = byName.get(`${m.relation.schema}.${m.relation.table}`);
          const known = new Map((table?.columns ?? []).map((c) => [c.name, c]));
          const columns = m.relation.columns.map((c) => lakeColumnOfRelation(c, known.get(c.name)));
          relations.set(m.relation.relationId, { relation: m.relation, table, columns });
          break;
        }
        case 'insert':
        case 'update':
        case 'delete': {
          const rel = relations.get(m.relationId);
          if (!rel) throw new CaptureError(`source ${this.sourceName}: change for unknown relation ${m.relationId} before its relation message`, 'bad-data');
          if (!rel.table || !current) break;
          const tuple = m.tag === 'delete' ? m.oldTuple : m.newTuple;
          const old = m.tag === 'update' && !m.oldIsKeyOnly ? m.oldTuple : null;
          // PostgreSQL sends the old key only when an update changed it. Downstream applies changes
          // by key, so a key change is written as the old key's delete and the new key's insert.
          if (m.tag === 'update' && m.oldTuple && keyChanged(rel.table.primaryKey, rel.columns, m.oldTuple, m.newTuple)) {
            current.push({ table: rel.table.key, op: 'D', columns: rel.columns, values: this.tupleValues(rel.table.key, rel.columns, m.oldTuple, null, true) });
            current.push({ table: rel.table.key, op: 'I', columns: rel.columns, values: this.tupleValues(rel.table.key, rel.columns, m.newTuple, old) });
            break;
          }
          current.push({
            table: rel.table.key,
            op: m.tag === 'insert' ? 'I' : m.tag === 'update' ? 'U' : 'D',
            columns: rel.columns,
            values: this.tupleValues(rel.table.key, rel.columns, tuple, old),
          });
          break;
        }
        case 'truncate':
          throw new CaptureError(
            `source ${this.sourceName}: a table was truncated at the source; DMS does not carry TRUNCATE either: re-snapshot the affected tables`,
            'bad-data',
          );
        case 'commit':
          if (current) {
            transactions.push({ commitTimestamp: commitTimestampOf(m.commitTime), position: lsnKey(m.commitLsn), changes: current });
          }
          current = null;
          endLsn = m.endLsn;
          break;
        default:
          break;
      }
    }
    return { transactions, endPosition: endLsn };
  }

  /** Moves the slot past what is safely in S3; PostgreSQL may then recycle that WAL. */
  async advance(lsn: string): Promise<void> {
    await this.pool.query('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [this.slot, lsn]);
  }

  async dropSlot(): Promise<void> {
    await this.pool.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [this.slot]);
  }

  private tupleValues(table: string, columns: LakeColumn[], tuple: TupleValue[], old: TupleValue[] | null, keyOnly = false): Record<string, SourceValue> {
    const out: Record<string, string | null> = {};
    columns.forEach((c, i) => {
      let v = tuple[i] ?? null;
      // A key-only old tuple carries nothing for the other columns: they are unknown, written as NULL
      // (as DMS writes a delete under the default replica identity).
      if (keyOnly && v !== null && typeof v === 'object') v = null;
      if (v !== null && typeof v === 'object') {
        const before = old?.[i];
        if (typeof before === 'string' || before === null) v = before ?? null;
        else {
          throw new CaptureError(
            `table ${table}: column ${c.name}: an update left this large (TOASTed) value unchanged and the source did not send it; run ALTER TABLE … REPLICA IDENTITY FULL on the source table`,
            'bad-data',
            { key: table, column: c.name },
          );
        }
      }
      out[c.name] = v;
    });
    return this.toSourceValues(columns, out);
  }

  /** bytea arrives as \x-hex text; everything else stays text for the writer to type. */
  private toSourceValues(columns: LakeColumn[], row: Record<string, string | null>): Record<string, SourceValue> {
    const out: Record<string, SourceValue> = {};
    for (const c of columns) {
      const v = row[c.name] ?? null;
      out[c.name] = v !== null && c.lakeType === 'binary' && v.startsWith('\\x') ? Buffer.from(v.slice(2), 'hex') : v;
    }
    return out;
  }
}

