// Keeps the sample sources changing: inserts, updates and deletes in MariaDB (clinic) and PostgreSQL
// (labs), some in transactions that touch several tables, as the CDC pipelines will see in life.
// Deterministic for a given seed, so a test can replay the same changes.
import mysql from 'mysql2/promise';
import pg from 'pg';

export interface ChangeCounts {
  [table: string]: { inserted: number; updated: number; deleted: number };
}

export interface GenerateOptions {
  changes: number;
  seed?: number;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same changes. Tests and benchmarks use it too. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CITIES = ['Jakarta', 'Bandung', 'Surabaya', 'Yogyakarta', 'Medan', 'Makassar', 'Denpasar', 'Semarang'];
const NAMES = ['Siti Nurhaliza', 'Budi Santoso', 'Dewi Lestari', 'Agus Salim', 'Ni Luh Putu Ayu', 'Andi Mappanyukki', 'Rézky Pratama', 'Tan Mei Ling 陈美玲'];
const STATUSES = ['SCHEDULED', 'CHECKED_IN', 'COMPLETED', 'CANCELLED', 'NO_SHOW'];
const CHANNELS = ['CLINIC', 'VIDEO', 'CHAT', 'HOME_VISIT'];
const ORDER_STATUSES = ['ordered', 'collected', 'in_progress', 'resulted'];

function requireEnv(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set: it holds the sample source's connection string`);
  return v;
}

export async function generateChanges(env: Readonly<Record<string, string | undefined>>, options: GenerateOptions): Promise<ChangeCounts> {
  const rnd = seededRandom(options.seed ?? Date.now());
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const counts: ChangeCounts = {};
  const count = (table: string, kind: 'inserted' | 'updated' | 'deleted', n = 1) => {
    counts[table] ??= { inserted: 0, updated: 0, deleted: 0 };
    counts[table][kind] += n;
  };

  const clinic = await mysql.createConnection({ uri: requireEnv(env, 'DANAU_SOURCE_CLINIC_URL') });
  const labs = new pg.Client({ connectionString: requireEnv(env, 'DANAU_SOURCE_LABS_URL') });
  await labs.connect();
  try {
    for (let i = 0; i < options.changes; i++) {
      const roll = rnd();
      if (roll < 0.3) {
        // A booking: a new patient sometimes, and an appointment, in one transaction.
        await clinic.beginTransaction();
        const [[ids]] = await clinic.query<mysql.RowDataPacket[]>(
          'SELECT COALESCE(MAX(patient_id), 0) AS p, (SELECT COALESCE(MAX(appointment_id), 0) FROM appointments) AS a, (SELECT MIN(doctor_id) FROM doctors) AS d0, (SELECT MAX(doctor_id) FROM doctors) AS d1 FROM patients',
        );
        let patientId = Number(ids!.p);
        if (rnd() < 0.4 || patientId === 0) {
          patientId += 1;
          await clinic.query(
            `INSERT INTO patients (patient_id, medical_record_no, full_name, gender, birth_date, city, registered_at)
             VALUES (?, ?, ?, ?, ?, ?, NOW(3))`,
            [patientId, `MRN-G${patientId}`, pick(NAMES), rnd() < 0.5 ? 'F' : 'M', `19${50 + Math.floor(rnd() * 49)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`, pick(CITIES)],
          );
          count('clinic.patients', 'inserted');
        } else {
          patientId = 1 + Math.floor(rnd() * patientId);
        }
        const appointmentId = Number(ids!.a) + 1;
        const doctorId = Number(ids!.d0) + Math.floor(rnd() * (Number(ids!.d1) - Number(ids!.d0) + 1));
        await clinic.query(
          `INSERT INTO appointments (appointment_id, booking_code, patient_id, doctor_id, appointment_at, channel, fee)
           VALUES (?, ?, ?, ?, NOW() + INTERVAL ? HOUR, ?, ?)`,
          [appointmentId, `BK-G${appointmentId}`, patientId, doctorId, Math.floor(rnd() * 72), pick(CHANNELS), (150 + Math.floor(rnd() * 50) * 10) * 1000],
        );
        await clinic.commit();
        count('clinic.appointments', 'inserted');
      } else if (roll < 0.55) {
        const [res] = await clinic.query<mysql.ResultSetHeader>(
          'UPDATE appointments SET status = ?, paid_amount = fee WHERE appointment_id = (SELECT id FROM (SELECT appointment_id AS id FROM appointments ORDER BY appointment_id DESC LIMIT 1 OFFSET ?) x)',
          [pick(STATUSES), Math.floor(rnd() * 50)],
        );
        count('clinic.appointments', 'updated', res.affectedRows);
      } else if (roll < 0.65) {
        const [res] = await clinic.query<mysql.ResultSetHeader>(
          'UPDATE patients SET city = ?, phone = ? WHERE patient_id = (SELECT id FROM (SELECT patient_id AS id FROM patients ORDER BY RAND(?) LIMIT 1) x)',
          [pick(CITIES), `08${Math.floor(rnd() * 1e10)}`, Math.floor(rnd() * 1e6)],
        );
        count('clinic.patients', 'updated', res.affectedRows);
      } else if (roll < 0.67) {
        const [res] = await clinic.query<mysql.ResultSetHeader>(
          "DELETE FROM appointments WHERE status IN ('CANCELLED', 'NO_SHOW') ORDER BY appointment_id LIMIT 1",
        );
        count('clinic.appointments', 'deleted', res.affectedRows);
      } else if (roll < 0.7) {
        // A primary key that changes (a re-numbered booking): CDC must carry it as delete + insert.
        const [[ids]] = await clinic.query<mysql.RowDataPacket[]>('SELECT MIN(appointment_id) AS lo, MAX(appointment_id) AS hi FROM appointments');
        const [res] = await clinic.query<mysql.ResultSetHeader>('UPDATE appointments SET appointment_id = ? WHERE appointment_id = ?', [
          Number(ids!.hi) + 1,
          Number(ids!.lo) + Math.floor(rnd() * 20),
        ]);
        count('clinic.appointments', 'updated', res.affectedRows);
      } else if (roll < 0.85) {
        // A lab order with its results, in one transaction across both tables.
        await labs.query('BEGIN');
        const { rows } = await labs.query<{ o: string; r: string }>(
          'SELECT COALESCE(MAX(order_id), 0) AS o, (SELECT COALESCE(MAX(result_id), 0) FROM lab_results) AS r FROM lab_orders',
        );
        const orderId = Number(rows[0]!.o) + 1;
        let resultId = Number(rows[0]!.r);
        await labs.query(
          `INSERT INTO lab_orders (order_id, order_number, patient_id, panel_code, panel_name, priority, status, ordered_at, price, metadata)
           VALUES ($1, $2, $3, 'CBC', 'Darah Lengkap (Complete Blood Count)', 'routine', 'resulted', now(), 125000.00, $4)`,
          [orderId, `LAB-G${orderId}`, 1 + Math.floor(rnd() * 200), JSON.stringify({ generated: true, note: 'puasa 8 jam ✓' })],
        );
        count('labs.lab_orders', 'inserted');
        for (const [line, code, name] of [
          [1, 'HGB', 'Hemoglobin'],
          [2, 'WBC', 'Leukosit'],
        ] as const) {
          resultId += 1;
          await labs.query(
            `INSERT INTO lab_results (result_id, order_id, line_no, test_code, test_name, value_numeric, unit, resulted_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'g/dL', now())`,
            [resultId, orderId, line, code, name, (10 + rnd() * 8).toFixed(3)],
          );
          count('labs.lab_results', 'inserted');
        }
        await labs.query('COMMIT');
      } else if (roll < 0.95) {
        const r = await labs.query(
          'UPDATE lab_orders SET status = $1, updated_at = now() WHERE order_id = (SELECT order_id FROM lab_orders ORDER BY order_id DESC OFFSET $2 LIMIT 1)',
          [pick(ORDER_STATUSES), Math.floor(rnd() * 50)],
        );
        count('labs.lab_orders', 'updated', r.rowCount ?? 0);
      } else if (roll < 0.975) {
        const r = await labs.query(
          'DELETE FROM lab_results WHERE result_id = (SELECT result_id FROM lab_results ORDER BY result_id DESC OFFSET $1 LIMIT 1)',
          [Math.floor(rnd() * 50)],
        );
        count('labs.lab_results', 'deleted', r.rowCount ?? 0);
      } else {
        const r = await labs.query(
          `UPDATE lab_results SET result_id = (SELECT max(result_id) + 1 FROM lab_results)
            WHERE result_id = (SELECT result_id FROM lab_results ORDER BY result_id OFFSET $1 LIMIT 1)`,
          [Math.floor(rnd() * 50)],
        );
        count('labs.lab_results', 'updated', r.rowCount ?? 0);
      }
    }
  } catch (err) {
    await clinic.rollback().catch(() => undefined);
    await labs.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await clinic.end();
    await labs.end();
  }
  return counts;
}
