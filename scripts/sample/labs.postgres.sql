-- Sample source data for the PostgreSQL database `labs`: laboratory orders and their results.
-- Idempotent: tables are created if missing and seed rows are inserted under fixed primary keys
-- with ON CONFLICT DO NOTHING, so loading it again changes nothing (rows a pipeline test updated
-- keep their updates).
--
-- Seed values are derived from the row number, not from random(), so every load produces the
-- same rows; only the times are relative to the moment of the first load (orders fall in the 60
-- days before it). patient_id, ordering_doctor_id and appointment_id point at rows of the MariaDB
-- `clinic` sample (a different database, so not foreign keys).
--
-- Time columns: timestamptz columns are instants; collected_at and resulted_at are `timestamp`
-- (without time zone) holding the lab's wall clock in Jakarta (WIB), as analyzers report them.
--
-- Lake settings per table (record key / precombine field / daily partition field):
--   lab_orders   order_id   updated_at  ordered_at
--   lab_results  result_id  updated_at  resulted_at
--
-- Load: scripts/stack/sample.sh load

SET client_encoding = 'UTF8';
SET client_min_messages = warning;

CREATE TABLE IF NOT EXISTS lab_orders (
  order_id           bigint        PRIMARY KEY,
  order_number       text          NOT NULL UNIQUE,
  patient_id         bigint        NOT NULL,
  ordering_doctor_id integer       NULL,
  appointment_id     bigint        NULL,
  panel_code         text          NOT NULL,
  panel_name         text          NOT NULL,
  priority           text          NOT NULL CHECK (priority IN ('routine', 'urgent', 'stat')),
  status             text          NOT NULL CHECK (status IN ('ordered', 'collected', 'in_progress', 'resulted', 'cancelled')),
  fasting            boolean       NULL,
  ordered_at         timestamptz   NOT NULL,
  collected_at       timestamp     NULL,
  clinical_notes     text          NULL,
  price              numeric(12,2) NOT NULL,
  metadata           jsonb         NOT NULL DEFAULT '{}'::jsonb,
  requisition_scan   bytea         NULL,
  created_at         timestamptz   NOT NULL DEFAULT now(),
  updated_at         timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ix_lab_orders_ordered_at ON lab_orders (ordered_at);
CREATE INDEX IF NOT EXISTS ix_lab_orders_patient ON lab_orders (patient_id);
CREATE INDEX IF NOT EXISTS ix_lab_orders_updated_at ON lab_orders (updated_at);

CREATE TABLE IF NOT EXISTS lab_results (
  result_id      bigint        PRIMARY KEY,
  order_id       bigint        NOT NULL REFERENCES lab_orders (order_id),
  line_no        smallint      NOT NULL,
  test_code      text          NOT NULL,
  test_name      text          NOT NULL,
  value_numeric  numeric(10,3) NULL,
  value_text     text          NULL,
  unit           text          NULL,
  reference_low  numeric(10,3) NULL,
  reference_high numeric(10,3) NULL,
  flag           char(1)       NULL CHECK (flag IN ('L', 'N', 'H')),
  resulted_at    timestamp     NOT NULL,
  verified_at    timestamptz   NULL,
  verified_by    text          NULL,
  analyzer       jsonb         NULL,
  raw_message    bytea         NULL,
  updated_at     timestamptz   NOT NULL DEFAULT now(),
  UNIQUE (order_id, line_no)
);
CREATE INDEX IF NOT EXISTS ix_lab_results_resulted_at ON lab_results (resulted_at);
CREATE INDEX IF NOT EXISTS ix_lab_results_updated_at ON lab_results (updated_at);

-- updated_at follows every UPDATE, like MariaDB's ON UPDATE CURRENT_TIMESTAMP.
CREATE OR REPLACE FUNCTION labs_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER lab_orders_touch_updated_at
  BEFORE UPDATE ON lab_orders FOR EACH ROW EXECUTE FUNCTION labs_touch_updated_at();
CREATE OR REPLACE TRIGGER lab_results_touch_updated_at
  BEFORE UPDATE ON lab_results FOR EACH ROW EXECUTE FUNCTION labs_touch_updated_at();

BEGIN;

-- The test catalogue the seed rows draw from: six panels of three tests.
CREATE TEMPORARY TABLE seed_panel_tests (
  panel_code text, panel_name text, price numeric(12,2), line_no smallint,
  test_code text, test_name text, unit text, low numeric(10,3), high numeric(10,3),
  base numeric(10,3), spread numeric(10,3), is_text boolean
) ON COMMIT DROP;

INSERT INTO seed_panel_tests VALUES
  ('CBC',    'Darah Lengkap',         185000, 1, '718-7',   'Hemoglobin',                 'g/dL',   12.000,  16.000,  13.800,  3.200, false),
  ('CBC',    'Darah Lengkap',         185000, 2, '6690-2',  'Leukosit',                   '10³/µL',  4.000,  11.000,   7.500,  5.000, false),
  ('CBC',    'Darah Lengkap',         185000, 3, '777-3',   'Trombosit',                  '10³/µL', 150.000, 400.000, 260.000, 160.000, false),
  ('LIPID',  'Profil Lipid',          320000, 1, '2093-3',  'Kolesterol total',           'mg/dL',   0.000, 200.000, 195.000, 60.000, false),
  ('LIPID',  'Profil Lipid',          320000, 2, '2085-9',  'Kolesterol HDL',             'mg/dL',  40.000,  60.000,  48.000, 15.000, false),
  ('LIPID',  'Profil Lipid',          320000, 3, '13457-7', 'Kolesterol LDL (kalkulasi)', 'mg/dL',   0.000, 130.000, 125.000, 45.000, false),
  ('GLU',    'Gula Darah',            150000, 1, '1558-6',  'Glukosa puasa',              'mg/dL',  70.000, 100.000,  98.000, 35.000, false),
  ('GLU',    'Gula Darah',            150000, 2, '1518-0',  'Glukosa 2 jam PP',           'mg/dL',   0.000, 140.000, 138.000, 50.000, false),
  ('GLU',    'Gula Darah',            150000, 3, '4548-4',  'HbA1c',                      '%',       4.000,   5.700,   5.900,  1.800, false),
  ('RFT',    'Fungsi Ginjal',         210000, 1, '3094-0',  'Ureum (BUN)',                'mg/dL',   7.000,  20.000,  15.000,  8.000, false),
  ('RFT',    'Fungsi Ginjal',         210000, 2, '14682-9', 'Kreatinin',                  'µmol/L', 53.000, 106.000,  85.000, 35.000, false),
  ('RFT',    'Fungsi Ginjal',         210000, 3, '3084-1',  'Asam urat',                  'mg/dL',   3.500,   7.200,   6.000,  2.500, false),
  ('LFT',    'Fungsi Hati',           240000, 1, '1920-8',  'SGOT (AST)',                 'U/L',     0.000,  40.000,  32.000, 20.000, false),
  ('LFT',    'Fungsi Hati',           240000, 2, '1742-6',  'SGPT (ALT)',                 'U/L',     0.000,  41.000,  35.000, 25.000, false),
  ('LFT',    'Fungsi Hati',           240000, 3, '1975-2',  'Bilirubin total',            'mg/dL',   0.100,   1.200,   0.800,  0.500, false),
  ('DENGUE', 'Panel Dengue',          450000, 1, '75377-2', 'Antigen NS1 dengue',         NULL,      NULL,     NULL,     NULL,   NULL,  true),
  ('DENGUE', 'Panel Dengue',          450000, 2, '4544-3',  'Hematokrit',                 '%',      37.000,  47.000,  42.000,  7.000, false),
  ('DENGUE', 'Panel Dengue',          450000, 3, '777-3',   'Trombosit',                  '10³/µL', 150.000, 400.000, 160.000, 110.000, false);

-- A deterministic, uncorrelated pseudo-random number per (salt, row number): 32 bits of md5.
CREATE OR REPLACE FUNCTION pg_temp.seed_hash(salt text, n bigint) RETURNS bigint
  LANGUAGE sql IMMUTABLE AS $$ SELECT ('x' || substr(md5(salt || ':' || n), 1, 8))::bit(32)::bigint $$;

-- 300 orders over the 60 days up to the first load.
INSERT INTO lab_orders
  (order_id, order_number, patient_id, ordering_doctor_id, appointment_id, panel_code, panel_name,
   priority, status, fasting, ordered_at, collected_at, clinical_notes, price, metadata,
   requisition_scan, created_at, updated_at)
SELECT o.n,
       'LAB-' || lpad(o.n::text, 6, '0'),
       1 + o.h_patient % 200,
       CASE WHEN o.h_doctor % 10 = 0 THEN NULL ELSE 1 + o.h_doctor % 20 END,
       CASE WHEN o.h_misc % 3 = 0 THEN NULL ELSE 1 + o.h_patient % 500 END,
       pt.panel_code,
       pt.panel_name,
       (ARRAY['routine', 'routine', 'routine', 'urgent', 'routine', 'stat'])[1 + o.h_kind % 6],
       o.status,
       CASE WHEN pt.panel_code IN ('LIPID', 'GLU') THEN true WHEN o.h_misc % 4 = 0 THEN NULL ELSE false END,
       o.ordered_at,
       CASE WHEN o.status IN ('ordered', 'cancelled') THEN NULL
            ELSE LEAST(now(), o.ordered_at + make_interval(mins => 20 + (o.h_time % 40)::int)) AT TIME ZONE 'Asia/Jakarta' END,
       (ARRAY[NULL, 'Pasien puasa ≥ 10 jam', 'Riwayat DM tipe 2, kontrol rutin', NULL,
              'Demam hari ke-3, curiga DBD', 'Sampel agak hemolisis ⚠️', NULL,
              'Pasien minta hasil dikirim lewat WhatsApp 📱', 'Kontrol pasca-operasi — cek fungsi ginjal', NULL])[1 + o.h_notes % 10],
       pt.price,
       jsonb_build_object(
         'source', (ARRAY['clinic', 'clinic', 'walk_in', 'partner_hospital'])[1 + o.h_misc % 4],
         'site', (ARRAY['Lab Kemang', 'Lab Kelapa Gading', 'Lab Dago – Bandung', 'Lab Renon – Denpasar'])[1 + o.h_kind % 4],
         'payer', CASE WHEN o.h_notes % 5 IN (0, 1) THEN 'BPJS Kesehatan' WHEN o.h_notes % 5 = 2 THEN 'Prudential' ELSE 'self_pay' END,
         'tags', CASE WHEN o.h_misc % 7 = 0 THEN jsonb_build_array('home_collection') ELSE '[]'::jsonb END,
         'icd10', CASE WHEN o.h_doctor % 3 = 0 THEN NULL
                       ELSE to_jsonb((ARRAY['E11.9', 'E78.0', 'A90', 'N18.3', 'K76.0', 'Z00.0'])[1 + o.h_panel % 6]) END),
       CASE WHEN o.h_notes % 4 = 0 THEN NULL
            ELSE decode('89504e470d0a1a0a', 'hex') || convert_to('requisition LAB-' || lpad(o.n::text, 6, '0') || ' ✓', 'UTF8') END,
       o.ordered_at,
       LEAST(now(), o.ordered_at + CASE o.status
                                     WHEN 'ordered' THEN interval '0'
                                     WHEN 'cancelled' THEN interval '45 minutes'
                                     WHEN 'in_progress' THEN interval '2 hours'
                                     ELSE interval '5 hours' END + make_interval(mins => (o.h_time % 30)::int))
  FROM (
    SELECT h.*,
           -- Jakarta working hours: 07:00-19:00 WIB = 00:00-12:00 UTC; never after the load.
           LEAST(date_trunc('minute', now()) - make_interval(mins => 5 + (h.h_time % 60)::int),
                 date_trunc('day', now()) - make_interval(days => (h.h_day % 60)::int)
                   + make_interval(mins => (h.h_time % 720)::int)) AS ordered_at,
           CASE WHEN h.h_status % 50 = 0 THEN 'cancelled'
                WHEN h.h_status % 50 IN (1, 2) THEN 'ordered'
                WHEN h.h_status % 50 BETWEEN 3 AND 5 THEN 'in_progress'
                ELSE 'resulted' END AS status
      FROM (
        SELECT n,
               pg_temp.seed_hash('patient', n) AS h_patient, pg_temp.seed_hash('doctor', n) AS h_doctor,
               pg_temp.seed_hash('panel', n) AS h_panel, pg_temp.seed_hash('day', n) AS h_day,
               pg_temp.seed_hash('time', n) AS h_time, pg_temp.seed_hash('status', n) AS h_status,
               pg_temp.seed_hash('kind', n) AS h_kind, pg_temp.seed_hash('notes', n) AS h_notes,
               pg_temp.seed_hash('misc', n) AS h_misc
          FROM generate_series(1, 300) AS n
      ) h
  ) o
  JOIN (SELECT DISTINCT panel_code, panel_name, price FROM seed_panel_tests) pt
    ON pt.panel_code = (ARRAY['CBC', 'LIPID', 'GLU', 'RFT', 'LFT', 'DENGUE'])[1 + o.h_panel % 6]
ON CONFLICT DO NOTHING;

-- Three results per order that has been analysed (about 900).
INSERT INTO lab_results
  (result_id, order_id, line_no, test_code, test_name, value_numeric, value_text, unit,
   reference_low, reference_high, flag, resulted_at, verified_at, verified_by, analyzer,
   raw_message, updated_at)
SELECT r.result_id, r.order_id, r.line_no, r.test_code, r.test_name, r.value_numeric, r.value_text,
       r.unit, r.low, r.high,
       CASE WHEN r.value_numeric IS NULL THEN NULL
            WHEN r.low IS NOT NULL AND r.value_numeric < r.low THEN 'L'
            WHEN r.high IS NOT NULL AND r.value_numeric > r.high THEN 'H'
            ELSE 'N' END,
       r.resulted_at,
       r.verified_at,
       CASE WHEN r.verified_at IS NOT NULL THEN
         (ARRAY['Rina Kusumawati, A.Md.AK', 'dr. Hendra Gunawan, Sp.PK', 'Nur’aini Lubis, S.Tr.Kes'])[1 + r.h_order % 3] END,
       CASE WHEN r.h_order % 9 = 0 THEN NULL ELSE
         jsonb_build_object('model', CASE WHEN r.panel_code IN ('CBC', 'DENGUE') THEN 'Sysmex XN-1000' ELSE 'Cobas c 311' END,
                            'serial', 'SN-' || (10000 + r.h_order % 90000)::text,
                            'run', r.order_id * 10 + r.line_no,
                            'qc_passed', r.h_order % 17 <> 0) END,
       CASE WHEN r.h_value % 5 = 0 THEN NULL ELSE
         convert_to('OBX|' || r.line_no || '|' || CASE WHEN r.value_numeric IS NULL THEN 'ST' ELSE 'NM' END || '|'
                    || r.test_code || '^' || r.test_name || '^LN||' || coalesce(r.value_numeric::text, r.value_text)
                    || '|' || coalesce(r.unit, '') || '|' || coalesce(r.low::text || '-' || r.high::text, '') || '|||F', 'UTF8') END,
       LEAST(now(), coalesce(r.verified_at, (r.resulted_at AT TIME ZONE 'Asia/Jakarta')))
  FROM (
    SELECT x.*,
           CASE WHEN x.is_text THEN NULL
                ELSE round(x.base + x.spread * ((x.h_value % 2001) - 1000) / 1000.0, 3) END AS value_numeric,
           CASE WHEN x.is_text THEN CASE WHEN x.h_value % 3 = 0 THEN 'Reaktif' ELSE 'Non-reaktif' END END AS value_text,
           LEAST(now() AT TIME ZONE 'Asia/Jakarta',
                 x.collected_at + make_interval(mins => 90 + x.line_no * 7 + (x.h_order % 30)::int)) AS resulted_at,
           CASE WHEN x.status = 'resulted' THEN
             LEAST(now(), ((x.collected_at + make_interval(mins => 150 + (x.h_order % 60)::int)) AT TIME ZONE 'Asia/Jakarta')) END AS verified_at
      FROM (
        SELECT (o.order_id - 1) * 3 + t.line_no AS result_id,
               o.order_id, o.status, o.collected_at, t.line_no, t.panel_code, t.test_code, t.test_name,
               t.unit, t.low, t.high, t.base, t.spread, t.is_text,
               pg_temp.seed_hash('order', o.order_id) AS h_order,
               pg_temp.seed_hash('value', (o.order_id - 1) * 3 + t.line_no) AS h_value
          FROM lab_orders o
          JOIN seed_panel_tests t ON t.panel_code = o.panel_code
         WHERE o.order_id BETWEEN 1 AND 300
           AND o.status IN ('in_progress', 'resulted')
           AND o.collected_at IS NOT NULL
      ) x
  ) r
ON CONFLICT DO NOTHING;

COMMIT;

-- CDC: with the default replica identity, an update that leaves a large (TOASTed) value unchanged
-- does not send it, and Danau's capture stops rather than guess; FULL sends the whole old row.
ALTER TABLE lab_orders REPLICA IDENTITY FULL;
ALTER TABLE lab_results REPLICA IDENTITY FULL;
