// The capture benchmark's load: rows of its own in the sample sources (negative primary keys, below
// the sample generator's MAX(id) + 1 and its newest rows), and a steady stream of single-row
// INSERT/UPDATE transactions at a fixed rate. Each change writes a marker unique to it
// (`b<tag>:<n>`) into one text column, so a captured change is matched to its commit exactly, and the
// wall-clock time its COMMIT was acknowledged is kept in memory. Someone else's generator may still
// renumber or update a benchmark row: such changes are told apart (key, Op, patients' city) and an
// update that finds its row gone is skipped, not counted as committed.
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import pg from 'pg';

export type BenchTable = 'lab_orders' | 'lab_results' | 'patients' | 'appointments';
export type Engine = 'postgres' | 'mysql';

export const BENCH_TABLES: readonly { table: BenchTable; engine: Engine; schema: string; idColumn: string; markerColumn: string; partitionField: string }[] = [
  { table: 'lab_orders', engine: 'postgres', schema: 'public', idColumn: 'order_id', markerColumn: 'clinical_notes', partitionField: 'ordered_at' },
  { table: 'lab_results', engine: 'postgres', schema: 'public', idColumn: 'result_id', markerColumn: 'value_text', partitionField: 'resulted_at' },
  { table: 'patients', engine: 'mysql', schema: 'clinic', idColumn: 'patient_id', markerColumn: 'address', partitionField: 'registered_at' },
  { table: 'appointments', engine: 'mysql', schema: 'clinic', idColumn: 'appointment_id', markerColumn: 'complaint', partitionField: 'appointment_at' },
];

/** Benchmark patients keep this city; the sample generator's patient updates set a real one. */
export const BENCH_CITY = 'Bench';

export interface Commit {
  table: BenchTable;
  op: 'I' | 'U';
  id: number;
  /** Epoch milliseconds (sub-millisecond precision) when the statement was sent. */
  sentAt: number;
  /** Epoch milliseconds when the server acknowledged the commit. */
  committedAt: number;
}

export const wallClock = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pool {
  /** Ids of benchmark rows that exist (for updates). */
  ids: number[];
  /** The next id to insert: benchmark ids count down from below the table's smallest. */
  next: number;
  /** The first id this run used: cleanup deletes (next, first]. */
  first: number;
}

export class SteadyLoad {
  readonly tag: string;
  readonly commits = new Map<string, Commit>();
  private readonly pools = {} as Record<BenchTable, Pool>;
  /** Next line_no per benchmark lab order (lab_results is unique on order_id, line_no). */
  private readonly nextLine = new Map<number, number>();
  private seq = 0;
  private doctorId = 0;
  private readonly pgClients: pg.Client[] = [];
  private readonly myConns: mysql.Connection[] = [];
  private stopped = false;
  /** Updates that found their row gone (renumbered or deleted by someone else): not committed. */
  skipped = 0;

  constructor(private readonly labsUrl: string, private readonly clinicUrl: string, tag: string, private readonly lanesPerSource = 2) {
    this.tag = tag;
  }

  get markerPrefix(): string {
    return `b${this.tag}:`;
  }

  get loadMarker(): string {
    return `load:${this.tag}`;
  }

  async connect(): Promise<void> {
    for (let i = 0; i < this.lanesPerSource; i++) {
      const c = new pg.Client({ connectionString: this.labsUrl });
      await c.connect();
      this.pgClients.push(c);
      this.myConns.push(await mysql.createConnection({ uri: this.clinicUrl }));
    }
    const pgc = this.pgClients[0]!;
    const my = this.myConns[0]!;
    for (const t of BENCH_TABLES) {
      let min: number;
      if (t.engine === 'postgres') {
        const { rows } = await pgc.query<{ m: string | null }>(`SELECT MIN(${t.idColumn})::text AS m FROM ${t.table}`);
        min = Number(rows[0]!.m ?? 0);
      } else {
        const [rows] = await my.query<mysql.RowDataPacket[]>(`SELECT CAST(MIN(${t.idColumn}) AS CHAR) AS m FROM ${t.table}`);
        min = Number(rows[0]!.m ?? 0);
      }
      const first = Math.min(0, min) - 1;
      this.pools[t.table] = { ids: [], next: first, first };
    }
    const [d] = await my.query<mysql.RowDataPacket[]>('SELECT MIN(doctor_id) AS d FROM doctors');
    this.doctorId = Number(d[0]!.d);
    if (!this.doctorId) throw new Error('clinic.doctors is empty: load the sample data first (danau sample load)');
  }

  /** `rows` benchmark rows in each table, inserted in bulk (they are part of the full load). */
  async preload(rows: number): Promise<void> {
    if (rows <= 0) return;
    const pgc = this.pgClients[0]!;
    const my = this.myConns[0]!;
    const o = this.pools.lab_orders;
    const r = this.pools.lab_results;
    const p = this.pools.patients;
    const a = this.pools.appointments;
    await pgc.query('BEGIN');
    await pgc.query(
      `INSERT INTO lab_orders (order_id, order_number, patient_id, panel_code, panel_name, priority, status, ordered_at, price, clinical_notes)
       SELECT $1::bigint - g, 'BENCH-' || $2 || ($1::bigint - g), 1, 'CBC', 'Darah Lengkap', 'routine', 'ordered', now(), 1.00, $3
       FROM generate_series(0, $4::int - 1) g`,
      [o.next, this.tag, this.loadMarker, rows],
    );
    await pgc.query(
      `INSERT INTO lab_results (result_id, order_id, line_no, test_code, test_name, value_numeric, unit, resulted_at, value_text)
       SELECT $1::bigint - g, $2::bigint - g, 1, 'HGB', 'Hemoglobin', 13.500, 'g/dL', now(), $3
       FROM generate_series(0, $4::int - 1) g`,
      [r.next, o.next, this.loadMarker, rows],
    );
    await pgc.query('COMMIT');
    this.preloaded([o, r], rows);
    for (let g = 0; g < rows; g++) this.nextLine.set(o.next + rows - g, 2);
    await my.beginTransaction();
    await my.query(
      `INSERT INTO patients (patient_id, medical_record_no, full_name, gender, birth_date, city, registered_at, address)
       SELECT ? - CAST(seq AS SIGNED), CONCAT('B', ?, ? - CAST(seq AS SIGNED)), 'Bench Patient', 'F', '1990-01-01', ?, NOW(3), ? FROM seq_0_to_${rows - 1}`,
      [p.next, this.tag, p.next, BENCH_CITY, this.loadMarker],
    );
    await my.query(
      `INSERT INTO appointments (appointment_id, booking_code, patient_id, doctor_id, appointment_at, channel, fee, complaint)
       SELECT ? - CAST(seq AS SIGNED), CONCAT('B', ?, ? - CAST(seq AS SIGNED)), ? - CAST(seq AS SIGNED), ?, NOW(), 'CLINIC', 1.00, ? FROM seq_0_to_${rows - 1}`,
      [a.next, this.tag, a.next, p.next, this.doctorId, this.loadMarker],
    );
    await my.commit();
    this.preloaded([p, a], rows);
  }

  private preloaded(pools: Pool[], rows: number): void {
    for (const pool of pools) {
      for (let g = 0; g < rows; g++) pool.ids.push(pool.next - g);
      pool.next -= rows;
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Commits changes at `rate` per second in all (half into each source, alternating its two
   * tables), each a single-row transaction, for `seconds`. Open loop: change i is due at
   * start + i / rate whatever the previous ones took, so a slow commit does not lower the rate.
   */
  async run(rate: number, seconds: number, insertShare = 0.25): Promise<{ startedAt: number; endedAt: number }> {
    const startedAt = wallClock();
    const end = startedAt + seconds * 1000;
    const interval = 2000 / rate; // per source
    const lanes: Promise<void>[] = [];
    for (const engine of ['postgres', 'mysql'] as const) {
      const tables = BENCH_TABLES.filter((t) => t.engine === engine).map((t) => t.table);
      const counter = { next: 0 };
      for (let lane = 0; lane < this.lanesPerSource; lane++) {
        lanes.push(
          (async () => {
            for (;;) {
              const i = counter.next++;
              const due = startedAt + i * interval;
              if (due >= end || this.stopped) return;
              const wait = due - wallClock();
              if (wait > 0) await sleep(wait);
              const table = tables[i % tables.length]!;
              const insert = Math.random() < insertShare || this.pools[table].ids.length === 0;
              await this.change(engine, lane, table, insert);
            }
          })(),
        );
      }
    }
    const outcomes = await Promise.allSettled(lanes);
    const failed = outcomes.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) {
      this.stopped = true;
      throw failed.reason;
    }
    return { startedAt, endedAt: wallClock() };
  }

  private async change(engine: Engine, lane: number, table: BenchTable, insert: boolean): Promise<void> {
    const marker = `${this.markerPrefix}${++this.seq}`;
    const pool = this.pools[table];
    const id = insert ? pool.next-- : pool.ids[Math.floor(Math.random() * pool.ids.length)]!;
    const sentAt = wallClock();
    let affected: number;
    if (engine === 'postgres') {
      const c = this.pgClients[lane]!;
      let sql: string;
      let params: unknown[];
      if (table === 'lab_orders') {
        [sql, params] = insert
          ? [
              `INSERT INTO lab_orders (order_id, order_number, patient_id, panel_code, panel_name, priority, status, ordered_at, price, clinical_notes, updated_at)
               VALUES ($1, $2, 1, 'CBC', 'Darah Lengkap', 'routine', 'ordered', clock_timestamp(), 1.00, $3, clock_timestamp())`,
              [id, `BENCH-${this.tag}${id}`, marker],
            ]
          : [`UPDATE lab_orders SET clinical_notes = $2, updated_at = clock_timestamp() WHERE order_id = $1`, [id, marker]];
      } else {
        if (insert) {
          const orders = this.pools.lab_orders.ids;
          const orderId = orders[Math.floor(Math.random() * orders.length)];
          if (orderId === undefined) throw new Error('lab_results: no benchmark lab order to attach a result to');
          const line = this.nextLine.get(orderId) ?? 1;
          this.nextLine.set(orderId, line + 1);
          [sql, params] = [
            `INSERT INTO lab_results (result_id, order_id, line_no, test_code, test_name, value_numeric, unit, resulted_at, value_text, updated_at)
             VALUES ($1, $2, $3, 'WBC', 'Leukosit', 7.250, '10^3/uL', clock_timestamp(), $4, clock_timestamp())`,
            [id, orderId, line, marker],
          ];
        } else {
          [sql, params] = [`UPDATE lab_results SET value_text = $2, updated_at = clock_timestamp() WHERE result_id = $1`, [id, marker]];
        }
      }
      affected = (await c.query(sql, params)).rowCount ?? 0;
    } else {
      const c = this.myConns[lane]!;
      let sql: string;
      let params: unknown[];
      if (table === 'patients') {
        [sql, params] = insert
          ? [
              `INSERT INTO patients (patient_id, medical_record_no, full_name, gender, birth_date, city, registered_at, address, updated_at)
               VALUES (?, ?, 'Bench Patient', 'M', '1990-01-01', ?, NOW(3), ?, NOW(3))`,
              [id, `B${this.tag}${id}`, BENCH_CITY, marker],
            ]
          : ['UPDATE patients SET address = ?, city = ?, updated_at = NOW(3) WHERE patient_id = ?', [marker, BENCH_CITY, id]];
      } else if (insert) {
        const patients = this.pools.patients.ids;
        const patientId = patients.length ? patients[Math.floor(Math.random() * patients.length)]! : 1;
        [sql, params] = [
          `INSERT INTO appointments (appointment_id, booking_code, patient_id, doctor_id, appointment_at, channel, fee, complaint, updated_at)
           VALUES (?, ?, ?, ?, NOW(), 'VIDEO', 1.00, ?, NOW(3))`,
          [id, `B${this.tag}${id}`, patientId, this.doctorId, marker],
        ];
      } else {
        [sql, params] = ['UPDATE appointments SET complaint = ?, updated_at = NOW(3) WHERE appointment_id = ?', [marker, id]];
      }
      const [res] = await c.query<mysql.ResultSetHeader>(sql, params);
      affected = res.affectedRows;
    }
    const committedAt = wallClock();
    if (affected === 0 && !insert) {
      this.skipped++;
      pool.ids.splice(pool.ids.indexOf(id), 1);
      return;
    }
    if (affected !== 1) throw new Error(`${table}: ${insert ? 'insert' : 'update'} of benchmark row ${id} changed ${affected} rows`);
    if (insert) {
      pool.ids.push(id);
      if (table === 'lab_orders') this.nextLine.set(id, 1);
    }
    this.commits.set(marker, { table, op: insert ? 'I' : 'U', id, sentAt, committedAt });
  }

  /** Deletes every row this run added (children first), by key range and by marker (a row someone renumbered). */
  async deleteRows(): Promise<Record<BenchTable, number>> {
    const out = {} as Record<BenchTable, number>;
    const pgc = this.pgClients[0]!;
    const my = this.myConns[0]!;
    for (const t of ['lab_results', 'lab_orders', 'appointments', 'patients'] as const) {
      const pool = this.pools[t];
      if (!pool) continue;
      const spec = BENCH_TABLES.find((b) => b.table === t)!;
      if (spec.engine === 'postgres') {
        out[t] = (
          await pgc.query(`DELETE FROM ${t} WHERE (${spec.idColumn} > $1 AND ${spec.idColumn} <= $2) OR ${spec.markerColumn} = $3 OR ${spec.markerColumn} LIKE $4`, [
            pool.next,
            pool.first,
            this.loadMarker,
            `${this.markerPrefix}%`,
          ])
        ).rowCount ?? 0;
      } else {
        const [res] = await my.query<mysql.ResultSetHeader>(
          `DELETE FROM ${t} WHERE (${spec.idColumn} > ? AND ${spec.idColumn} <= ?) OR ${spec.markerColumn} = ? OR ${spec.markerColumn} LIKE ?`,
          [pool.next, pool.first, this.loadMarker, `${this.markerPrefix}%`],
        );
        out[t] = res.affectedRows;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pgClients.map((c) => c.end()), ...this.myConns.map((c) => c.end())]);
  }
}
