// A decoder for PostgreSQL's pgoutput logical replication messages (protocol version 1), as returned
// by pg_logical_slot_peek_binary_changes. Values stay in PostgreSQL's text form, so numerics stay
// exact and timestamps keep their microseconds; typing happens once, in the raw-file writer.
// Message layout: https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html

export interface RelationColumn {
  name: string;
  typeOid: number;
  typeModifier: number;
  isKey: boolean;
}

export interface Relation {
  relationId: number;
  schema: string;
  table: string;
  replicaIdentity: string;
  columns: RelationColumn[];
}

/** A column's value: text, NULL, or `unchanged` (a TOASTed value the update did not touch). */
export type TupleValue = string | null | { unchanged: true };

export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: string; commitTime: bigint; xid: number }
  | { tag: 'commit'; commitLsn: string; endLsn: string; commitTime: bigint }
  | { tag: 'relation'; relation: Relation }
  | { tag: 'insert'; relationId: number; newTuple: TupleValue[] }
  | { tag: 'update'; relationId: number; oldTuple: TupleValue[] | null; oldIsKeyOnly: boolean; newTuple: TupleValue[] }
  | { tag: 'delete'; relationId: number; oldTuple: TupleValue[]; oldIsKeyOnly: boolean }
  | { tag: 'truncate'; relationIds: number[] }
  | { tag: 'other'; code: string };

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_MICROS = 946_684_800_000_000n;

/** An LSN as PostgreSQL writes it: two hex halves, e.g. 0/19724F8. */
export function formatLsn(v: bigint): string {
  return `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function parseLsn(s: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(s);
  if (!m) throw new Error(`not an LSN: ${s}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Commit times come as microseconds since 2000-01-01; this gives microseconds since 1970. */
export function pgTimeToUnixMicros(t: bigint): bigint {
  return t + PG_EPOCH_MICROS;
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  byte(): string {
    return String.fromCharCode(this.buf.readUInt8(this.at++));
  }
  int8(): number {
    return this.buf.readInt8(this.at++);
  }
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  uint32(): number {
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  int64(): bigint {
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }
  string(): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0) throw new Error('unterminated string in pgoutput message');
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  tuple(): TupleValue[] {
    const n = this.int16();
    const out: TupleValue[] = [];
    for (let i = 0; i < n; i++) {
      const kind = this.byte();
      if (kind === 'n') out.push(null);
      else if (kind === 'u') out.push({ unchanged: true });
      else if (kind === 't' || kind === 'b') out.push(this.bytes(this.int32()).toString('utf8'));
      else throw new Error(`unknown tuple value kind ${JSON.stringify(kind)}`);
    }
    return out;
  }
}

export function decodePgoutput(buf: Buffer): PgoutputMessage {
  const r = new Reader(buf);
  const code = r.byte();
  switch (code) {
    case 'B':
      return { tag: 'begin', finalLsn: formatLsn(r.int64()), commitTime: r.int64(), xid: r.uint32() };
    case 'C': {
      r.int8(); // flags, unused
      return { tag: 'commit', commitLsn: formatLsn(r.int64()), endLsn: formatLsn(r.int64()), commitTime: r.int64() };
    }
    case 'R': {
      const relationId = r.uint32();
      const schema = r.string();
      const table = r.string();
      const replicaIdentity = r.byte();
      const n = r.int16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.int8();
        columns.push({ isKey: (flags & 1) === 1, name: r.string(), typeOid: r.uint32(), typeModifier: r.int32() });
      }
      return { tag: 'relation', relation: { relationId, schema, table, replicaIdentity, columns } };
    }
    case 'I': {
      const relationId = r.uint32();
      r.byte(); // 'N'
      return { tag: 'insert', relationId, newTuple: r.tuple() };
    }
    case 'U': {
      const relationId = r.uint32();
      let kind = r.byte();
      let oldTuple: TupleValue[] | null = null;
      let oldIsKeyOnly = false;
      if (kind === 'K' || kind === 'O') {
        oldIsKeyOnly = kind === 'K';
        oldTuple = r.tuple();
        kind = r.byte();
      }
      if (kind !== 'N') throw new Error(`update message without a new tuple (got ${JSON.stringify(kind)})`);
      return { tag: 'update', relationId, oldTuple, oldIsKeyOnly, newTuple: r.tuple() };
    }
    case 'D': {
      const relationId = r.uint32();
      const kind = r.byte();
      return { tag: 'delete', relationId, oldIsKeyOnly: kind === 'K', oldTuple: r.tuple() };
    }
    case 'T': {
      const n = r.int32();
      r.int8(); // options
      const relationIds: number[] = [];
      for (let i = 0; i < n; i++) relationIds.push(r.uint32());
      return { tag: 'truncate', relationIds };
    }
    default:
      return { tag: 'other', code };
  }
}
