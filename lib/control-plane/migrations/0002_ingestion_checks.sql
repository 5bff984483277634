-- The ingestion checks that guard every table's pipeline: one row per check per run, so the
-- history of a table's freshness, continuity and schema is kept and can be charted.
CREATE TABLE ingestion_checks (
  check_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  table_id    bigint NOT NULL REFERENCES tables (table_id),
  check_name  text NOT NULL CHECK (check_name IN ('freshness', 'continuity', 'schema_drift')),
  ok          boolean NOT NULL,
  message     text NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}',
  checked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingestion_checks_table ON ingestion_checks (table_id, checked_at);
