#!/usr/bin/env bash
# Sample source data for the local stack: the MariaDB `clinic` database and the PostgreSQL `labs`
# database, loaded through the servers' own clients with the credentials of config/local.env.
#
#   scripts/stack/sample.sh load     create the tables if missing, insert the seed rows (idempotent)
#   scripts/stack/sample.sh counts   print the row count of every sample table
#   scripts/stack/sample.sh clinic-sql -e "…"   run SQL in MariaDB clinic (the demo breaks a table with it)
#   scripts/stack/sample.sh labs-sql -c "…"     run SQL in PostgreSQL labs
#
# Both servers must be running (scripts/stack/postgres.sh start, scripts/stack/mariadb.sh start).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SAMPLE_DIR="$DANAU_ROOT/scripts/sample"
CLINIC_TABLES=(doctors patients appointments)
LABS_TABLES=(lab_orders lab_results)

clinic_sql() {
  MYSQL_PWD="$DANAU_MARIADB_PASSWORD" mariadb --no-defaults --protocol=TCP -h "$DANAU_MARIADB_HOST" \
    -P "$DANAU_MARIADB_PORT" -u "$DANAU_MARIADB_USER" --default-character-set=utf8mb4 "$@" clinic
}

labs_sql() {
  PGPASSWORD="$DANAU_PG_PASSWORD" PGCLIENTENCODING=UTF8 psql -X -q -v ON_ERROR_STOP=1 \
    -h "$DANAU_PG_HOST" -p "$DANAU_PG_PORT" -U "$DANAU_PG_USER" -d labs "$@"
}

require_servers() {
  command -v mariadb >/dev/null || die "the mariadb client is missing; run: scripts/stack/mariadb.sh install"
  command -v psql >/dev/null || die "psql is missing; run: scripts/stack/postgres.sh install"
  clinic_sql -N -e 'SELECT 1' >/dev/null 2>&1 \
    || die "cannot reach MariaDB database clinic on $DANAU_MARIADB_HOST:$DANAU_MARIADB_PORT; run: scripts/stack/mariadb.sh start"
  labs_sql -At -c 'SELECT 1' >/dev/null 2>&1 \
    || die "cannot reach PostgreSQL database labs on $DANAU_PG_HOST:$DANAU_PG_PORT; run: scripts/stack/postgres.sh start"
}

cmd_counts() {
  local t
  for t in "${CLINIC_TABLES[@]}"; do
    printf '%-28s %s\n' "clinic.$t" "$(clinic_sql -N -B -e "SELECT COUNT(*) FROM \`$t\`")"
  done
  for t in "${LABS_TABLES[@]}"; do
    printf '%-28s %s\n' "labs.$t" "$(labs_sql -At -c "SELECT count(*) FROM $t")"
  done
}

cmd_load() {
  require_servers
  log "loading $SAMPLE_DIR/clinic.mariadb.sql into MariaDB clinic"
  clinic_sql <"$SAMPLE_DIR/clinic.mariadb.sql"
  log "loading $SAMPLE_DIR/labs.postgres.sql into PostgreSQL labs"
  labs_sql -f "$SAMPLE_DIR/labs.postgres.sql" >/dev/null
  cmd_counts
}

case "${1:-}" in
  load) cmd_load ;;
  counts) require_servers; cmd_counts ;;
  clinic-sql) shift; clinic_sql "$@" ;;
  labs-sql) shift; labs_sql "$@" ;;
  *) echo "usage: $0 load|counts|clinic-sql|labs-sql" >&2; exit 2 ;;
esac
