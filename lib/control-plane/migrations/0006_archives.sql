-- Raw-zone archival (issue 6). An archive row moves listed -> uploading -> uploaded -> verified ->
-- originals_deleted; `failed` is a zip that did not verify (its originals are untouched, and the next
-- run rebuilds it). Originals are deleted only from a verified archive, entry by entry.

ALTER TABLE archives DROP CONSTRAINT archives_status_check;
ALTER TABLE archives ADD CONSTRAINT archives_status_check
  CHECK (status IN ('listed', 'uploading', 'uploaded', 'verified', 'originals_deleted', 'failed'));

-- A partition archived once can be archived again later (files that arrived or changed after it):
-- each time is a new generation with its own zip key.
ALTER TABLE archives DROP CONSTRAINT archives_table_id_archive_level_partition_value_key;
ALTER TABLE archives
  ADD COLUMN generation integer NOT NULL DEFAULT 0 CHECK (generation >= 0),
  ADD COLUMN source_bucket text,
  -- The multipart upload in progress (cleared when it completes): what a crashed build left.
  ADD COLUMN upload_id text,
  -- What the build uploaded; verification and deletion check the object is still this one.
  ADD COLUMN zip_etag text,
  ADD COLUMN zip_sha256 text,
  ADD COLUMN verified_at timestamptz,
  ADD COLUMN originals_deleted_at timestamptz,
  ADD COLUMN error text,
  ADD CONSTRAINT archives_partition_generation UNIQUE (table_id, archive_level, partition_value, generation);

-- An entry is `listed` (planned), `zipped` (in the uploaded zip, CRC known), `archived` (in a
-- verified zip, original still in place), `deleted` (original removed: the zip is its only copy) or
-- `skipped` (not claimed: vanished or changed before it was zipped, or changed before deletion).
ALTER TABLE archive_entries
  ALTER COLUMN crc32 DROP NOT NULL,
  ADD COLUMN file_date date,
  ADD COLUMN state text NOT NULL DEFAULT 'listed' CHECK (state IN ('listed', 'zipped', 'archived', 'deleted', 'skipped')),
  ADD COLUMN skip_reason text,
  ADD COLUMN compression_method smallint,
  ADD COLUMN compressed_size bigint,
  ADD COLUMN local_header_offset bigint;
CREATE INDEX archive_entries_key ON archive_entries (object_key);
CREATE INDEX archive_entries_state ON archive_entries (archive_id, state);

-- One row per archiveTables run: what it estimated beforehand and what it measured after.
CREATE TABLE archive_runs (
  run_id            text PRIMARY KEY,
  dry_run           boolean NOT NULL,
  as_of             timestamptz NOT NULL,
  partitions        integer NOT NULL DEFAULT 0,
  archived          integer NOT NULL DEFAULT 0,
  files             bigint NOT NULL DEFAULT 0,
  original_bytes    bigint NOT NULL DEFAULT 0,
  zipped_bytes      bigint NOT NULL DEFAULT 0,
  estimate          jsonb NOT NULL DEFAULT '{}',
  -- Storage measured in S3 before and after: objects, bytes and monthly cost per storage class.
  measured_before   jsonb NOT NULL DEFAULT '{}',
  measured_after    jsonb NOT NULL DEFAULT '{}',
  monthly_cost_before numeric,
  monthly_cost_after  numeric,
  outcomes          jsonb NOT NULL DEFAULT '[]',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
