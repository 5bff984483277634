-- The processed zone (Hudi) per table: its index and MoR compaction settings, and a record of every
-- batch the lake upsert applied (which raw files, which Hudi instant, how many rows went where).

ALTER TABLE tables
  ADD COLUMN hudi_index_type text NOT NULL DEFAULT 'BLOOM' CHECK (hudi_index_type IN ('BLOOM', 'GLOBAL_BLOOM')),
  -- MoR only: compact after this many delta commits (inline, in the upsert job).
  ADD COLUMN compaction_delta_commits integer NOT NULL DEFAULT 5 CHECK (compaction_delta_commits > 0);

-- One row per batch of raw files. A batch is planned (its files fixed) before its job runs, so a
-- crash between the two re-runs the same batch, and Hudi's timeline says whether it was applied.
CREATE TABLE lake_batches (
  batch_id          text PRIMARY KEY,
  table_id          bigint NOT NULL REFERENCES tables (table_id),
  status            text NOT NULL CHECK (status IN ('planned', 'committed', 'failed')),
  file_count        integer NOT NULL,
  byte_count        bigint NOT NULL,
  -- The Hudi instant that applied the batch (null until committed).
  hudi_instant      text,
  runner            text,
  log_location      text,
  rows_read         bigint,
  rows_upserted     bigint,
  rows_deleted      bigint,
  rows_stale        bigint,
  rows_quarantined  bigint,
  -- The job found this batch already in the Hudi timeline (a second submission): nothing re-applied.
  already_applied   boolean NOT NULL DEFAULT false,
  error             text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lake_batches_table ON lake_batches (table_id, created_at);
-- At most one open batch per table: the next run resumes it rather than planning another.
CREATE UNIQUE INDEX lake_batches_one_open ON lake_batches (table_id) WHERE status = 'planned';

-- Every raw file a batch consumes. A file is consumed once: the primary key makes a second claim fail.
-- Files are tracked by name, never by modification time (apache/hudi#2850), so a file that arrives
-- late for an older day is still picked up.
CREATE TABLE lake_files (
  table_id    bigint NOT NULL REFERENCES tables (table_id),
  object_key  text NOT NULL,
  size_bytes  bigint NOT NULL,
  batch_id    text NOT NULL REFERENCES lake_batches (batch_id) ON DELETE CASCADE,
  PRIMARY KEY (table_id, object_key)
);
CREATE INDEX lake_files_batch ON lake_files (batch_id);
