-- Backfills (issue 7): a table's raw files of a date range applied to its Hudi table again, after a
-- person fixed something (a column's lake type, the lake job), by the backfillTable workflow.
--
-- Kept apart from lake_batches / lake_files on purpose: those record CONSUMPTION (each raw file
-- claimed once, by primary key; at most one open batch per table, which the next lake run resumes;
-- the platform metrics add them up as files and rows consumed). A backfill re-reads files already
-- consumed, must never be resumed by the table's lake step as one of its own batches, and does not
-- move the table's lake checkpoint; it files no failed events. Its batches are recorded here.

-- One row per backfill run (the backfillTable workflow's run id): the range and what it planned.
CREATE TABLE lake_backfills (
  backfill_id   text PRIMARY KEY,
  table_id      bigint NOT NULL REFERENCES tables (table_id),
  start_date    date NOT NULL,
  end_date      date NOT NULL CHECK (end_date >= start_date),
  include_load  boolean NOT NULL DEFAULT false,
  workflow_id   text,
  -- Files of the range the raw zone did not hold when planned: archived, their originals deleted.
  archived_missing integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lake_backfills_table ON lake_backfills (table_id, created_at);

-- The backfill's batches, in order (`seq`), each planned (files fixed) before its job runs, so a
-- retried job re-runs the same batch and finds its commit in the Hudi timeline.
CREATE TABLE lake_reapply_batches (
  batch_id           text PRIMARY KEY,
  backfill_id        text NOT NULL REFERENCES lake_backfills (backfill_id) ON DELETE CASCADE,
  seq                integer NOT NULL,
  status             text NOT NULL CHECK (status IN ('planned', 'committed')),
  file_count         integer NOT NULL,
  byte_count         bigint NOT NULL,
  hudi_instant       text,
  changelog_instant  text,
  runner             text,
  log_location       text,
  -- The lake job's result object (rows read, upserted, reapplied, unchanged, superseded, ...).
  result             jsonb,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (backfill_id, seq)
);

CREATE TABLE lake_reapply_files (
  batch_id    text NOT NULL REFERENCES lake_reapply_batches (batch_id) ON DELETE CASCADE,
  object_key  text NOT NULL,
  size_bytes  bigint NOT NULL,
  PRIMARY KEY (batch_id, object_key)
);
