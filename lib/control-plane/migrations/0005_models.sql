-- Warehouse models as configuration: the whole definition is kept (settings) beside the columns the
-- 0001 schema gave, and every build is recorded with the change-log instants it covered.
ALTER TABLE models DROP CONSTRAINT models_kind_check;
ALTER TABLE models ADD CONSTRAINT models_kind_check CHECK (kind IN ('scd1_dimension', 'scd2_dimension', 'fact'));

CREATE TABLE model_builds (
  build_id          text PRIMARY KEY,
  model_name        text NOT NULL REFERENCES models (model_name),
  status            text NOT NULL CHECK (status IN ('running', 'committed', 'failed')),
  begin_instant     text NOT NULL,
  end_instant       text,
  rows_staged       bigint,
  -- The start instant had been cleaned from the timeline: the build compared the whole change log.
  full_comparison   boolean NOT NULL DEFAULT false,
  error             text,
  started_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz
);
CREATE INDEX model_builds_model ON model_builds (model_name, started_at);

-- Redshift Data API statement ids by the work they do, so a retried activity re-attaches.
CREATE TABLE warehouse_statements (
  work_key      text PRIMARY KEY,
  statement_id  text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
