-- Issue 12, item 7: a source's connection string is resolved when it is used, through the secret
-- provider the worker is configured with (DANAU_SECRETS): an environment variable name, as before,
-- or a Secrets Manager secret name or ARN. The column is renamed for what it now holds; existing
-- rows (variable names) keep working unchanged under DANAU_SECRETS=env.
ALTER TABLE sources RENAME COLUMN connection_env TO connection_secret;
ALTER TABLE sources DROP CONSTRAINT sources_connection_env_check;
-- Secrets Manager names are 1-512 of [A-Za-z0-9/_+=.@-]; an ARN adds ':'. Variable names fit too.
-- (The length is checked apart: PostgreSQL regexes allow at most 255 repetitions.)
ALTER TABLE sources ADD CONSTRAINT sources_connection_secret_check
  CHECK (connection_secret ~ '^[A-Za-z0-9/_+=.@:-]+$' AND length(connection_secret) <= 2048);
COMMENT ON COLUMN sources.connection_secret IS
  'What holds the connection string: an environment variable name (DANAU_SECRETS=env) or a Secrets Manager secret name or ARN (DANAU_SECRETS=secretsmanager). Never the credentials themselves.';
