-- Running it like a platform (issue 7): Temporal Schedules are derived from these rows by
-- `danau schedules sync`, so pausing a schedule is a control-plane change a person can read back,
-- and the failed-event store gains what the reprocessing loop needs.

-- A paused table schedule keeps its note here (who paused it and why); NULL means running.
ALTER TABLE tables ADD COLUMN schedule_paused_note text;

-- The platform's own pipelines on a schedule: archival and the failed-event reprocessing loop.
CREATE TABLE platform_schedules (
  schedule_name  text PRIMARY KEY CHECK (schedule_name IN ('archive-tables', 'reprocess-failed-events')),
  cron           text NOT NULL,
  -- The workflow's input, as documented in the README.
  input          jsonb NOT NULL DEFAULT '{}',
  paused_note    text,
  enabled        boolean NOT NULL DEFAULT true,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO platform_schedules (schedule_name, cron, input) VALUES
  ('archive-tables', '30 1 * * *', '{}'),
  ('reprocess-failed-events', '*/10 * * * *', '{}');

-- One open event per failing (pipeline, subject): a table that fails every five minutes is one
-- event whose occurrences grow, not a flood; it is resolved when the table's pipeline next succeeds.
ALTER TABLE failed_events
  ADD COLUMN occurrences integer NOT NULL DEFAULT 1,
  ADD COLUMN last_workflow_id text,
  ADD COLUMN last_run_id text,
  ADD COLUMN settled_by text;
CREATE UNIQUE INDEX failed_events_one_open_pipeline_failure ON failed_events (pipeline, subject)
  WHERE pipeline = 'table-pipeline' AND status IN ('pending', 'retrying', 'dead_letter');
