-- The models' invariants over whole tables, nightly: each build checks only its batch's keys.
ALTER TABLE platform_schedules DROP CONSTRAINT IF EXISTS platform_schedules_schedule_name_check;
ALTER TABLE platform_schedules ADD CONSTRAINT platform_schedules_schedule_name_check
  CHECK (schedule_name IN ('archive-tables', 'reprocess-failed-events', 'check-models'));
INSERT INTO platform_schedules (schedule_name, cron, input) VALUES ('check-models', '30 2 * * *', '{}')
  ON CONFLICT (schedule_name) DO NOTHING;
