-- Sample source data for the MariaDB database `clinic`: doctors, patients and appointments of a
-- telemedicine clinic. Idempotent: tables are created if missing and seed rows are inserted with
-- INSERT IGNORE under fixed primary keys, so loading it again changes nothing (rows a pipeline
-- test updated keep their updates).
--
-- Seed values are derived from the row number (CRC32 of a salted row number), not from RAND(), so
-- every load produces the same rows; only the times are relative to the moment of the first load
-- (appointments fall in the 60 days before it, a few in the 3 days after). The server runs with
-- time_zone '+00:00': DATETIME values are UTC.
--
-- Lake settings per table (record key / precombine field / daily partition field):
--   doctors       doctor_id       updated_at  created_at
--   patients      patient_id      updated_at  registered_at
--   appointments  appointment_id  updated_at  appointment_at
--
-- Load: scripts/stack/sample.sh load

SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS doctors (
  doctor_id         INT           NOT NULL,
  full_name         VARCHAR(120)  NOT NULL,
  specialty         VARCHAR(80)   NOT NULL,
  str_number        VARCHAR(32)   NOT NULL COMMENT 'Surat Tanda Registrasi (medical council registration)',
  email             VARCHAR(160)  NULL,
  phone             VARCHAR(20)   NULL,
  consultation_fee  DECIMAL(12,2) NOT NULL COMMENT 'IDR',
  is_active         TINYINT(1)    NOT NULL DEFAULT 1,
  practice_schedule JSON          NULL,
  joined_on         DATE          NOT NULL,
  created_at        DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at        DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (doctor_id),
  UNIQUE KEY uq_doctors_str_number (str_number),
  KEY ix_doctors_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS patients (
  patient_id         BIGINT        NOT NULL,
  medical_record_no  VARCHAR(20)   NOT NULL,
  full_name          VARCHAR(150)  NOT NULL,
  name_alias         VARCHAR(60)   NULL COMMENT 'name in another script, e.g. Chinese characters',
  nik                CHAR(16)      NULL COMMENT 'Nomor Induk Kependudukan (national id)',
  gender             ENUM('M','F') NOT NULL,
  birth_date         DATE          NOT NULL,
  blood_type         ENUM('A','B','AB','O') NULL,
  phone              VARCHAR(20)   NULL,
  email              VARCHAR(160)  NULL,
  city               VARCHAR(80)   NOT NULL,
  address            VARCHAR(255)  NULL,
  insurance_provider VARCHAR(60)   NULL,
  allergies          JSON          NULL,
  registered_at      DATETIME(3)   NOT NULL,
  updated_at         TIMESTAMP(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (patient_id),
  UNIQUE KEY uq_patients_mrn (medical_record_no),
  KEY ix_patients_registered_at (registered_at),
  KEY ix_patients_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS appointments (
  appointment_id   BIGINT        NOT NULL,
  booking_code     VARCHAR(24)   NOT NULL,
  patient_id       BIGINT        NOT NULL,
  doctor_id        INT           NOT NULL,
  appointment_at   DATETIME      NOT NULL,
  duration_minutes SMALLINT      NOT NULL DEFAULT 15,
  channel          ENUM('CLINIC','VIDEO','CHAT','HOME_VISIT') NOT NULL,
  status           ENUM('SCHEDULED','CHECKED_IN','COMPLETED','CANCELLED','NO_SHOW') NOT NULL DEFAULT 'SCHEDULED',
  fee              DECIMAL(12,2) NOT NULL COMMENT 'IDR',
  discount         DECIMAL(12,2) NULL,
  paid_amount      DECIMAL(12,2) NULL,
  complaint        VARCHAR(500)  NULL,
  diagnosis_code   VARCHAR(10)   NULL COMMENT 'ICD-10',
  vitals           JSON          NULL,
  cancel_reason    VARCHAR(255)  NULL,
  created_at       DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at       DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (appointment_id),
  UNIQUE KEY uq_appointments_booking_code (booking_code),
  KEY ix_appointments_appointment_at (appointment_at),
  KEY ix_appointments_patient (patient_id),
  KEY ix_appointments_doctor (doctor_id),
  KEY ix_appointments_updated_at (updated_at),
  CONSTRAINT fk_appointments_patient FOREIGN KEY (patient_id) REFERENCES patients (patient_id),
  CONSTRAINT fk_appointments_doctor FOREIGN KEY (doctor_id) REFERENCES doctors (doctor_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 20 doctors.
INSERT IGNORE INTO doctors
  (doctor_id, full_name, specialty, str_number, email, phone, consultation_fee, is_active,
   practice_schedule, joined_on, created_at, updated_at)
VALUES
  (1,  'dr. Andi Pratama, Sp.PD',          'Penyakit Dalam',           '3121100220145678', 'andi.pratama@klinik.example',  '+62 812-1111-2001', 350000.00, 1, '{"mon": ["08:00-12:00"], "wed": ["08:00-12:00"], "fri": ["13:00-17:00"]}', '2019-02-11', '2019-02-11 02:00:00.000', '2024-06-03 04:12:45.120'),
  (2,  'dr. Siti Rahmawati, Sp.A',         'Anak',                     '3221100220151234', 'siti.rahmawati@klinik.example', '+62 813-2222-2002', 300000.00, 1, '{"tue": ["09:00-14:00"], "thu": ["09:00-14:00"]}', '2019-05-20', '2019-05-20 03:30:00.000', '2024-01-15 08:00:00.000'),
  (3,  'dr. I Gedé Suryawan, Sp.OG',       'Obstetri & Ginekologi',    '5121100220169876', 'gede.suryawan@klinik.example',  '+62 811-3333-2003', 400000.00, 1, '{"mon": ["15:00-20:00"], "sat": ["08:00-12:00"]}', '2020-01-06', '2020-01-06 01:15:00.000', '2025-03-01 10:20:30.000'),
  (4,  'dr. Linda Tjahjadi, Sp.KK',        'Dermatologi & Venereologi','3171100220174321', 'linda.tjahjadi@klinik.example', NULL,                 375000.00, 1, '{"wed": ["10:00-16:00"], "sat": ["09:00-13:00"]}', '2020-03-16', '2020-03-16 02:45:00.000', '2023-11-30 06:30:00.000'),
  (5,  'dr. Ma’ruf Hasibuan, Sp.JP',       'Jantung & Pembuluh Darah', '1221100220183456', 'maruf.hasibuan@klinik.example', '+62 852-5555-2005', 500000.00, 1, '{"tue": ["13:00-18:00"], "fri": ["08:00-11:00"]}', '2020-08-03', '2020-08-03 00:30:00.000', '2025-01-10 09:45:00.000'),
  (6,  'dr. Ni Luh Putu Ayu Déwi',         'Umum',                     '5171100220192345', NULL,                            '+62 878-6666-2006', 150000.00, 1, '{"mon": ["08:00-16:00"], "tue": ["08:00-16:00"], "wed": ["08:00-16:00"], "thu": ["08:00-16:00"]}', '2021-01-04', '2021-01-04 01:00:00.000', '2024-09-09 09:09:09.000'),
  (7,  'dr. Bambang Setiawan, Sp.OT',      'Ortopedi & Traumatologi',  '3321100220208765', 'bambang.setiawan@klinik.example','+62 856-7777-2007', 450000.00, 1, '{"thu": ["16:00-20:00"]}', '2021-04-12', '2021-04-12 05:00:00.000', '2024-12-24 12:00:00.000'),
  (8,  'dr. Yohanes Siregar, Sp.M',        'Mata',                     '1271100220215432', 'yohanes.siregar@klinik.example', '+62 821-8888-2008', 325000.00, 1, '{"mon": ["13:00-17:00"], "thu": ["08:00-12:00"]}', '2021-07-19', '2021-07-19 02:20:00.000', '2025-02-14 07:30:00.000'),
  (9,  'dr. Nurul Hidayah, Sp.THT-KL',     'Telinga Hidung Tenggorok', '3571100220226543', 'nurul.hidayah@klinik.example',  NULL,                 325000.00, 1, NULL, '2021-10-04', '2021-10-04 03:10:00.000', '2023-08-17 10:17:08.000'),
  (10, 'dr. Hendra Gunawan, Sp.N',         'Neurologi',                '3271100220237654', 'hendra.gunawan@klinik.example', '+62 815-1010-2010', 425000.00, 1, '{"wed": ["13:00-18:00"], "sat": ["08:00-11:00"]}', '2022-01-10', '2022-01-10 01:40:00.000', '2025-04-02 03:25:00.000'),
  (11, 'dr. Fitri Handayani',              'Umum',                     '3471100220248765', 'fitri.handayani@klinik.example', '+62 819-1111-2011', 150000.00, 1, '{"fri": ["08:00-16:00"], "sat": ["08:00-14:00"], "sun": ["09:00-13:00"]}', '2022-03-07', '2022-03-07 00:50:00.000', '2024-07-01 01:00:00.000'),
  (12, 'dr. Agnès Kusuma, Sp.KJ',          'Psikiatri',                '3174100220259876', 'agnes.kusuma@klinik.example',   '+62 838-1212-2012', 450000.00, 1, '{"tue": ["16:00-21:00"], "thu": ["16:00-21:00"]}', '2022-06-13', '2022-06-13 09:00:00.000', '2025-05-05 05:05:05.000'),
  (13, 'drg. Rizky Ramadhan',              'Gigi',                     '3273100220261111', 'rizky.ramadhan@klinik.example', '+62 822-1313-2013', 250000.00, 1, '{"mon": ["17:00-21:00"], "wed": ["17:00-21:00"]}', '2022-09-05', '2022-09-05 10:00:00.000', '2024-10-28 11:11:00.000'),
  (14, 'dr. Wayan Sudarsana, Sp.B',        'Bedah Umum',               '5103100220272222', NULL,                            '+62 857-1414-2014', 475000.00, 1, '{"fri": ["13:00-17:00"]}', '2023-01-09', '2023-01-09 02:00:00.000', '2025-01-18 06:18:00.000'),
  (15, 'dr. Kartika Sari, Sp.GK',          'Gizi Klinik',              '3374100220283333', 'kartika.sari@klinik.example',   '+62 813-1515-2015', 300000.00, 1, '{"sat": ["09:00-15:00"]}', '2023-04-17', '2023-04-17 03:00:00.000', '2024-04-17 03:00:00.000'),
  (16, 'dr. Joko Susilo, Sp.P',            'Paru',                     '3578100220294444', 'joko.susilo@klinik.example',    NULL,                 375000.00, 1, '{"tue": ["08:00-12:00"], "thu": ["13:00-17:00"]}', '2023-07-24', '2023-07-24 01:30:00.000', '2025-02-01 02:00:00.000'),
  (17, 'dr. Melati Putri, Sp.A',           'Anak',                     '3275100220305555', 'melati.putri@klinik.example',   '+62 896-1717-2017', 300000.00, 1, '{"mon": ["09:00-13:00"], "fri": ["09:00-13:00"]}', '2023-10-02', '2023-10-02 02:15:00.000', '2025-01-20 08:40:00.000'),
  (18, 'dr. Teguh Santoso',                'Umum',                     '3471100220316666', 'teguh.santoso@klinik.example',  '+62 812-1818-2018', 150000.00, 0, NULL, '2024-01-08', '2024-01-08 00:00:00.000', '2025-03-31 17:00:00.000'),
  (19, 'dr. Ratna Sembiring, Sp.PD-KGEH',  'Gastroenterohepatologi',   '1275100220327777', 'ratna.sembiring@klinik.example','+62 853-1919-2019', 550000.00, 1, '{"wed": ["08:00-12:00"], "sat": ["13:00-16:00"]}', '2024-05-13', '2024-05-13 04:00:00.000', '2025-04-09 09:00:00.000'),
  (20, 'dr. Zoë Halim (林佐伊), Sp.Rad',   'Radiologi',                '3173100220338888', 'zoe.halim@klinik.example',      '+62 811-2020-2020', 275000.00, 1, '{"mon": ["08:00-15:00"], "tue": ["08:00-15:00"]}', '2024-09-02', '2024-09-02 01:00:00.000', '2025-05-01 04:30:00.000');

-- 200 patients, registered between 2 months and 2 years before the first load. Each attribute
-- picks from its list by CRC32 of a salted row number (cast to SIGNED
-- so that arithmetic on it may go below zero): deterministic, and uncorrelated.
INSERT IGNORE INTO patients
  (patient_id, medical_record_no, full_name, name_alias, nik, gender, birth_date, blood_type,
   phone, email, city, address, insurance_provider, allergies, registered_at, updated_at)
WITH RECURSIVE seq (n) AS (
  SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 200
),
h AS (
  SELECT n,
         CAST(CRC32(CONCAT('gender:', n)) AS SIGNED) AS h_gender, CAST(CRC32(CONCAT('first:', n)) AS SIGNED) AS h_first,
         CAST(CRC32(CONCAT('last:', n)) AS SIGNED) AS h_last, CAST(CRC32(CONCAT('city:', n)) AS SIGNED) AS h_city,
         CAST(CRC32(CONCAT('birth:', n)) AS SIGNED) AS h_birth, CAST(CRC32(CONCAT('contact:', n)) AS SIGNED) AS h_contact,
         CAST(CRC32(CONCAT('street:', n)) AS SIGNED) AS h_street, CAST(CRC32(CONCAT('misc:', n)) AS SIGNED) AS h_misc,
         CAST(CRC32(CONCAT('registered:', n)) AS SIGNED) AS h_reg
    FROM seq
),
p AS (
  SELECT h.*,
         IF(h_gender % 2 = 0, 'F', 'M') AS gender,
         IF(h_gender % 2 = 0,
            ELT(1 + h_first % 20, 'Siti', 'Dewi', 'Ayu', 'Putri', 'Rina', 'Nurul', 'Wulan', 'Intan',
                'Kartika', 'Sri', 'Ni Luh Putu', 'Ma’rifah', 'Nur’aini', 'Anisa', 'Fitri', 'Melati',
                'Yuliana', 'Agnès', 'Ratna', 'Indah'),
            ELT(1 + h_first % 20, 'Budi', 'Agus', 'Andi', 'Rizky', 'Joko', 'I Made', 'I Wayan', 'Hendra',
                'Bambang', 'Dimas', 'Fajar', 'Yusuf', 'Ma’ruf', 'Teguh', 'Andréas', 'I Ketut', 'Rahmat',
                'Eko', 'Surya', 'Ilham')) AS first_name,
         ELT(1 + h_last % 24, 'Santoso', 'Wijaya', 'Saputra', 'Pratama', 'Siregar', 'Nasution',
             'Hasibuan', 'Simanjuntak', 'Kusuma', 'Setiawan', 'Hidayat', 'Gunawan', 'Susanto', 'Halim',
             'Tanoto', 'Lubis', 'Harahap', 'Sembiring', 'Tarigan', 'Rahardjo', 'Sitompul', 'Ginting',
             'Pangaribuan', 'Sudarsono') AS last_name,
         ELT(1 + h_city % 15, 'Jakarta Selatan', 'Jakarta Barat', 'Bandung', 'Surabaya', 'Medan',
             'Denpasar', 'Yogyakarta', 'Semarang', 'Makassar', 'Palembang', 'Tangerang', 'Bekasi',
             'Depok', 'Bogor', 'Malang') AS city
    FROM h
)
SELECT n,
       CONCAT('RM-', LPAD(n, 6, '0')),
       CONCAT(first_name, ' ', last_name),
       CASE WHEN last_name IN ('Halim', 'Tanoto', 'Wijaya', 'Gunawan', 'Susanto') AND h_misc % 3 <> 0 THEN
         ELT(1 + h_misc % 8, '林美玲', '陈志明', '黄丽华', '王建国', '张伟', '刘秀英', '吴家豪', '郑淑芬') END,
       CASE WHEN h_contact % 11 = 0 THEN NULL ELSE
         CONCAT(ELT(1 + h_city % 6, '31', '32', '33', '35', '51', '12'), LPAD(h_birth % 10000, 4, '0'),
                DATE_FORMAT(DATE '1950-01-01' + INTERVAL (h_birth % 25000) DAY, '%d%m%y'), LPAD(n, 4, '0')) END,
       gender,
       DATE '1950-01-01' + INTERVAL (h_birth % 25000) DAY,
       ELT(1 + h_misc % 5, 'A', 'B', 'AB', 'O', NULL),
       CASE WHEN h_contact % 7 = 0 THEN NULL ELSE
         CONCAT('+62 8', 11 + h_contact % 9, '-', LPAD(h_contact % 10000, 4, '0'), '-', LPAD(h_street % 10000, 4, '0')) END,
       CASE WHEN h_contact % 5 = 0 THEN NULL ELSE CONCAT('pasien', LPAD(n, 4, '0'), '@mail.example') END,
       city,
       CASE WHEN h_street % 13 = 0 THEN NULL ELSE
         CONCAT('Jl. ', ELT(1 + h_street % 12, 'Sudirman', 'M.H. Thamrin', 'Gatot Subroto', 'Diponegoro',
                'Ahmad Yani', 'Gajah Mada', 'Pemuda', 'Merdeka', 'Raya Kuta', 'Cempaka Putih', 'Kebon Jeruk',
                'Pahlawan'),
                ' No. ', 1 + h_street % 120, ', RT ', LPAD(1 + h_street % 12, 3, '0'), '/RW ',
                LPAD(1 + h_misc % 8, 3, '0'), ', ', city) END,
       ELT(1 + h_misc % 7, 'BPJS Kesehatan', 'BPJS Kesehatan', 'BPJS Kesehatan', 'Prudential', 'Allianz', 'AXA Mandiri', NULL),
       CASE h_misc % 6
         WHEN 0 THEN JSON_OBJECT('drugs', JSON_ARRAY('penisilin'), 'food', JSON_ARRAY(), 'notes', 'ruam kulit ringan')
         WHEN 1 THEN JSON_OBJECT('drugs', JSON_ARRAY(), 'food', JSON_ARRAY('udang', 'kacang tanah'), 'notes', NULL)
         WHEN 2 THEN NULL
         WHEN 3 THEN JSON_OBJECT('drugs', JSON_ARRAY('asam mefenamat', 'ibuprofen'), 'food', JSON_ARRAY(), 'notes', 'sesak napas – pernah dirawat')
         ELSE JSON_OBJECT('drugs', JSON_ARRAY(), 'food', JSON_ARRAY(), 'notes', NULL)
       END,
       NOW(3) - INTERVAL (61 + h_reg % 670) DAY - INTERVAL (h_reg % 1440) MINUTE,
       NOW(3) - INTERVAL (61 + h_reg % 670) DAY - INTERVAL (h_reg % 1440) MINUTE + INTERVAL (h_misc % 45) DAY
  FROM p;

-- 500 appointments: most in the 60 days up to the first load, a few booked for the next three
-- days (SCHEDULED), in slots from 01:00 to 12:45 UTC, i.e. 08:00 to 19:45 in Jakarta (WIB).
INSERT IGNORE INTO appointments
  (appointment_id, booking_code, patient_id, doctor_id, appointment_at, duration_minutes, channel,
   status, fee, discount, paid_amount, complaint, diagnosis_code, vitals, cancel_reason,
   created_at, updated_at)
WITH RECURSIVE seq (n) AS (
  SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 500
),
h AS (
  SELECT n,
         CAST(CRC32(CONCAT('patient:', n)) AS SIGNED) AS h_patient, CAST(CRC32(CONCAT('doctor:', n)) AS SIGNED) AS h_doctor,
         CAST(CRC32(CONCAT('day:', n)) AS SIGNED) AS h_day, CAST(CRC32(CONCAT('slot:', n)) AS SIGNED) AS h_slot,
         CAST(CRC32(CONCAT('kind:', n)) AS SIGNED) AS h_kind, CAST(CRC32(CONCAT('outcome:', n)) AS SIGNED) AS h_outcome,
         CAST(CRC32(CONCAT('vitals:', n)) AS SIGNED) AS h_vitals
    FROM seq
),
a AS (
  SELECT n, h_vitals, h_outcome,
         1 + h_patient % 200 AS patient_id,
         1 + h_doctor % 20 AS doctor_id,
         TIMESTAMP(CURRENT_DATE - INTERVAL (IF(h_day % 50 = 0, -1 - h_day % 3, h_day % 60)) DAY,
                   MAKETIME(1 + h_slot % 12, 15 * (h_slot % 4), 0)) AS appointment_at,
         ELT(1 + h_slot % 5, 15, 15, 20, 30, 15) AS duration_minutes,
         ELT(1 + h_kind % 6, 'CLINIC', 'VIDEO', 'VIDEO', 'CHAT', 'CLINIC', 'HOME_VISIT') AS channel,
         1 + h_kind % 10 AS k,
         h_outcome % 20 AS r
    FROM h
),
b AS (
  SELECT a.*, d.consultation_fee AS fee,
         CASE WHEN a.appointment_at > NOW() THEN 'SCHEDULED'
              WHEN a.r < 15 THEN 'COMPLETED'
              WHEN a.r < 18 THEN 'CANCELLED'
              ELSE 'NO_SHOW' END AS status,
         CASE WHEN a.h_outcome % 8 = 0 THEN ROUND(d.consultation_fee * 0.10, 2) END AS discount
    FROM a JOIN doctors d ON d.doctor_id = a.doctor_id
)
SELECT n,
       CONCAT('APT-', LPAD(n, 7, '0')),
       patient_id,
       doctor_id,
       appointment_at,
       duration_minutes,
       channel,
       status,
       fee,
       discount,
       CASE WHEN status = 'COMPLETED' THEN fee - COALESCE(discount, 0) END,
       CASE WHEN h_vitals % 9 = 0 THEN NULL ELSE
         ELT(k, 'Diare dan mual sejak kemarin', 'Batuk berdahak dan pilek', 'Sakit kepala berulang',
             'Kontrol gula darah', 'Nyeri ulu hati setelah makan', 'Ruam kulit gatal 😣',
             'Kontrol kehamilan trimester 2 🤰', 'Anak rewel, demam 38,5 °C', 'Nyeri lutut saat naik tangga',
             'Konsultasi hasil lab — kolesterol') END,
       CASE WHEN status = 'COMPLETED' THEN
         ELT(k, 'A09', 'J06.9', 'R51', 'E11.9', 'K30', 'L30.9', 'Z34.2', 'R50.9', 'M17.9', 'E78.0') END,
       CASE WHEN status = 'COMPLETED' AND channel IN ('CLINIC', 'HOME_VISIT') THEN
         JSON_OBJECT('bp', CONCAT(105 + h_vitals % 40, '/', 65 + h_vitals % 25), 'hr', 60 + h_vitals % 40,
                     'temp_c', ROUND(36.0 + (h_vitals % 25) / 10, 1), 'spo2', 94 + h_vitals % 6,
                     'weight_kg', 12 + h_vitals % 78) END,
       CASE WHEN status = 'CANCELLED' THEN
         ELT(1 + h_outcome % 4, 'Pasien berhalangan hadir', 'Dokter ada tindakan darurat', 'Jadwal bentrok',
             'Sudah merasa sehat 🙏') END,
       LEAST(NOW(3), appointment_at - INTERVAL (1 + h_outcome % 10) DAY - INTERVAL (h_vitals % 600) MINUTE),
       LEAST(NOW(3), CASE status
         WHEN 'COMPLETED' THEN appointment_at + INTERVAL (duration_minutes + h_outcome % 20) MINUTE
         WHEN 'CANCELLED' THEN appointment_at - INTERVAL (1 + h_outcome % 20) HOUR
         WHEN 'NO_SHOW' THEN appointment_at + INTERVAL 60 MINUTE
         ELSE appointment_at - INTERVAL (1 + h_outcome % 10) DAY - INTERVAL (h_vitals % 600) MINUTE
       END)
  FROM b;
