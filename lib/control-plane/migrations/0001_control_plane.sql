-- The control plane: the single source of truth for what runs. Onboarding a table or a model is
-- inserting rows here; pipelines read their settings and checkpoints from these tables.

CREATE TABLE sources (
  source_name     text PRIMARY KEY CHECK (source_name ~ '^[a-z][a-z0-9_]{0,62}$'),
  engine          text NOT NULL CHECK (engine IN ('mysql', 'postgres')),
  database_name   text NOT NULL,
  -- The name of the environment variable (or, in AWS, the secret) holding the connection string:
  -- credentials never live in the control plane.
  connection_env  text NOT NULL CHECK (connection_env ~ '^[A-Z][A-Z0-9_]*$'),
  description     text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tables (
  table_id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_name              text NOT NULL REFERENCES sources (source_name),
  schema_name              text NOT NULL,
  table_name               text NOT NULL,
  primary_key              text[] NOT NULL CHECK (cardinality(primary_key) > 0),
  precombine_field         text NOT NULL,
  partition_field          text NOT NULL,
  hudi_table_type          text NOT NULL DEFAULT 'COPY_ON_WRITE' CHECK (hudi_table_type IN ('COPY_ON_WRITE', 'MERGE_ON_READ')),
  cleaner_commits_retained integer NOT NULL DEFAULT 15 CHECK (cleaner_commits_retained > 0),
  archive_level            text NOT NULL DEFAULT 'day' CHECK (archive_level IN ('day', 'month')),
  archive_after_days       integer NOT NULL DEFAULT 30 CHECK (archive_after_days > 0),
  freshness_sla_minutes    integer NOT NULL DEFAULT 15 CHECK (freshness_sla_minutes > 0),
  schedule_cron            text NOT NULL DEFAULT '*/5 * * * *',
  enabled                  boolean NOT NULL DEFAULT true,
  paused_reason            text,
  -- The source columns as found at onboarding: [{name, sourceType, lakeType, nullable}]
  columns                  jsonb NOT NULL,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_name, schema_name, table_name)
);

-- One row per (pipeline, subject): the last raw file or LSN captured, the last Hudi instant pulled.
CREATE TABLE checkpoints (
  pipeline    text NOT NULL,
  subject     text NOT NULL,
  position    text NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, subject)
);

CREATE TABLE models (
  model_name       text PRIMARY KEY CHECK (model_name ~ '^[a-z][a-z0-9_]{0,62}$'),
  kind             text NOT NULL CHECK (kind IN ('scd1_dimension', 'scd2_dimension', 'fact')),
  source_tables    text[] NOT NULL,
  natural_key      text[] NOT NULL DEFAULT '{}',
  tracked_columns  text[] NOT NULL DEFAULT '{}',
  surrogate_key    text,
  sql              text,
  depends_on       text[] NOT NULL DEFAULT '{}',
  settings         jsonb NOT NULL DEFAULT '{}',
  enabled          boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reporting_objects (
  object_name  text PRIMARY KEY CHECK (object_name ~ '^[a-z][a-z0-9_]{0,62}$'),
  kind         text NOT NULL CHECK (kind IN ('table', 'materialized_view')),
  sql          text NOT NULL,
  depends_on   text[] NOT NULL DEFAULT '{}',
  enabled      boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The seed's archival config table: one row per zipped partition.
CREATE TABLE archives (
  archive_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  table_id            bigint NOT NULL REFERENCES tables (table_id),
  schema_name         text NOT NULL,
  table_name          text NOT NULL,
  archive_level       text NOT NULL CHECK (archive_level IN ('day', 'month')),
  partition_value     text NOT NULL,
  source_prefix       text NOT NULL,
  file_count          integer NOT NULL DEFAULT 0,
  original_bytes      bigint NOT NULL DEFAULT 0,
  zipped_bytes        bigint,
  zip_bucket          text NOT NULL,
  zip_key             text NOT NULL,
  zip_checksum        text,
  storage_class       text NOT NULL DEFAULT 'STANDARD_IA',
  status              text NOT NULL CHECK (status IN ('uploading', 'uploaded', 'verified', 'originals_deleted', 'failed')),
  compression_status  text NOT NULL DEFAULT 'pending',
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (table_id, archive_level, partition_value)
);

CREATE TABLE archive_entries (
  archive_id     bigint NOT NULL REFERENCES archives (archive_id) ON DELETE CASCADE,
  object_key     text NOT NULL,
  size_bytes     bigint NOT NULL,
  crc32          bigint NOT NULL,
  etag           text,
  last_modified  timestamptz,
  deleted_at     timestamptz,
  PRIMARY KEY (archive_id, object_key)
);

CREATE TABLE failed_events (
  event_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pipeline         text NOT NULL,
  table_id         bigint REFERENCES tables (table_id),
  subject          text NOT NULL,
  error_type       text NOT NULL,
  reason           text NOT NULL,
  -- A reference to the data (bucket/key, batch id, workflow id), never the rows themselves.
  data_ref         jsonb NOT NULL DEFAULT '{}',
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'resolved', 'dead_letter', 'skipped')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX failed_events_due ON failed_events (status, next_attempt_at);

CREATE TABLE audit_log (
  audit_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  action     text NOT NULL,
  subject    text NOT NULL,
  details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log (subject, at);
