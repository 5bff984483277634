-- Reconciliation (source row count and key-set checksum against the raw zone) is recorded beside
-- the other ingestion checks.
ALTER TABLE ingestion_checks DROP CONSTRAINT ingestion_checks_check_name_check;
ALTER TABLE ingestion_checks ADD CONSTRAINT ingestion_checks_check_name_check
  CHECK (check_name IN ('freshness', 'continuity', 'schema_drift', 'reconciliation'));
