#!/usr/bin/env bash
# PostgreSQL for the local stack: the control plane (danau_control), the local warehouse
# (danau_warehouse) and the `labs` source database, all in one cluster of our own under
# $DANAU_HOME/postgres, listening on 127.0.0.1:$DANAU_PG_PORT with wal_level=logical.
#
#   scripts/stack/postgres.sh install|start|stop|status
#
# The Debian package's own cluster (/var/lib/postgresql/<ver>/main, port 5432) is never used nor
# touched. PostgreSQL refuses to run as root, so when this script runs as root the server runs as
# the `postgres` system user that the Debian package creates.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The server's OS user may not be able to read our working directory: work from /.
DANAU_HOME="$(cd "$DANAU_HOME" && pwd)"
cd /

PG_NAME=postgres
PG_DATA="$DANAU_HOME/postgres"
PG_SOCKET_DIR="$DANAU_HOME/run/postgres"
PG_LOG="$DANAU_HOME/logs/postgres.log"
PG_DATABASES=(danau_control danau_warehouse labs)

# The newest installed server version's binaries (/usr/lib/postgresql/<ver>/bin).
pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [[ -n "$dir" && -x "$dir/postgres" ]] || return 1
  echo "$dir"
}

# The OS user the server runs as: `postgres` when we are root, else ourselves.
pg_os_user() {
  if [[ $EUID -eq 0 ]]; then echo postgres; else id -un; fi
}

# The prefix that runs a command as the server's OS user. setpriv execs (no fork), so a
# background $! is the command's own pid.
if [[ $EUID -eq 0 ]]; then
  AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --reset-env --)
else
  AS_PG=(env)
fi
as_pg() { "${AS_PG[@]}" "$@"; }

cmd_install() {
  if ! pg_bindir >/dev/null || ! command -v psql >/dev/null; then
    apt_install postgresql postgresql-client
  fi
  pg_bindir >/dev/null || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    die "the Debian package did not create the 'postgres' system user"
  fi
  pg_init
}

# The server's OS user must be able to reach $DANAU_HOME (every parent directory searchable).
pg_check_reachable() {
  [[ $EUID -eq 0 ]] || return 0
  local d="" part
  local -a parts
  IFS=/ read -ra parts <<<"${DANAU_HOME#/}"
  for part in "${parts[@]}"; do
    d="$d/$part"
    if ! as_pg test -x "$d"; then
      die "the 'postgres' user cannot enter $d (on the way to DANAU_HOME=$DANAU_HOME); allow it (chmod o+x $d) or set DANAU_HOME to a directory it can reach"
    fi
  done
}

# Unix socket paths are limited to 107 bytes.
pg_check_socket_path() {
  local sock="$PG_SOCKET_DIR/.s.PGSQL.$DANAU_PG_PORT"
  (( ${#sock} <= 100 )) || die "socket path $sock is too long for a unix socket; use a shorter DANAU_HOME"
}

# Create the cluster once (initdb), owned by the server's OS user.
pg_init() {
  local bindir owner
  bindir="$(pg_bindir)" || die "PostgreSQL is not installed; run: $0 install"
  owner="$(pg_os_user)"
  pg_check_reachable
  pg_check_socket_path
  mkdir -p "$PG_SOCKET_DIR"
  chown "$owner:" "$PG_SOCKET_DIR"
  chmod 0755 "$PG_SOCKET_DIR"
  if [[ -f "$PG_DATA/PG_VERSION" ]]; then return 0; fi
  log "initialising PostgreSQL cluster in $PG_DATA"
  mkdir -p "$PG_DATA"
  chown "$owner:" "$PG_DATA"
  chmod 0700 "$PG_DATA"
  as_pg "$bindir/initdb" -D "$PG_DATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 \
    || die "initdb failed (see $PG_LOG)"
  echo "include_if_exists = 'danau.conf'" >>"$PG_DATA/postgresql.conf"
}

# An eighth of the machine's memory, between 128MB (PostgreSQL's default) and 2GB, unless set.
pg_shared_buffers() {
  if [[ -n "${DANAU_PG_SHARED_BUFFERS:-}" ]]; then echo "$DANAU_PG_SHARED_BUFFERS"; return; fi
  local kb; kb="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)"
  local mb=$((kb / 1024 / 8))
  ((mb < 128)) && mb=128
  ((mb > 2048)) && mb=2048
  echo "${mb}MB"
}

# Settings and client authentication, rewritten on every start from the current environment.
pg_write_config() {
  local owner shared_buffers; owner="$(pg_os_user)"
  shared_buffers="$(pg_shared_buffers)"
  cat >"$PG_DATA/danau.conf" <<EOF
# Written by scripts/stack/postgres.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $DANAU_PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
unix_socket_permissions = 0777
password_encryption = 'scram-sha-256'
max_connections = 200
# The warehouse's builds write to random pages of large dimensions: with the default 128MB the
# backends spend their time writing out dirty pages to make room (DANAU_PG_SHARED_BUFFERS overrides).
shared_buffers = '$shared_buffers'
# Builds and checks are many short statements over a batch's keys; the planner's estimates for their
# temporary tables often pass jit_above_cost, and compiling then costs more than the statement saves.
jit = off
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
# An abandoned replication slot must not fill the disk of a development machine.
max_slot_wal_keep_size = '4GB'
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
  # Local socket: `postgres` by peer (provisioning), everyone else by password.
  # TCP: scram for everything, including replication connections (logical replication).
  cat >"$PG_DATA/pg_hba.conf" <<EOF
# Written by scripts/stack/postgres.sh on every start; edit the script, not this file.
# TYPE  DATABASE     USER      ADDRESS         METHOD
local   all          postgres                  peer
local   all          all                       scram-sha-256
local   replication  all                       scram-sha-256
host    all          all       127.0.0.1/32    scram-sha-256
host    replication  all       127.0.0.1/32    scram-sha-256
EOF
  chown "$owner:" "$PG_DATA/danau.conf" "$PG_DATA/pg_hba.conf"
  chmod 0600 "$PG_DATA/danau.conf" "$PG_DATA/pg_hba.conf"
}

# True when PID is a postgres process started on our data directory.
pg_is_ours() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */postgres ]] || return 1
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *" -D $PG_DATA "* ]]
}

# The postmaster's pid when our cluster is up (from its own postmaster.pid), else nothing.
pg_postmaster_pid() {
  local pid
  [[ -f "$PG_DATA/postmaster.pid" ]] || return 1
  pid="$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null)"
  pg_is_ours "$pid" || return 1
  echo "$pid"
}

pg_wait_ready() {
  local bindir="$1" pid="$2"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || die "PostgreSQL exited during startup (see $PG_LOG)"
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$DANAU_PG_PORT" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  die "PostgreSQL did not become ready on 127.0.0.1:$DANAU_PG_PORT within 60s (see $PG_LOG)"
}

# Role and databases, idempotently, as the `postgres` superuser over our unix socket.
pg_provision() {
  local bindir="$1"
  as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$DANAU_PG_PORT" -U postgres -d postgres \
    -v role="$DANAU_PG_USER" -v password="$DANAU_PG_PASSWORD" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN REPLICATION CREATEDB PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L', d, :'role', 'UTF8')
  FROM unnest(ARRAY['danau_control', 'danau_warehouse', 'labs']) AS d
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = d) \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', d, :'role')
  FROM unnest(ARRAY['danau_control', 'danau_warehouse', 'labs']) AS d \gexec
SQL
}

cmd_start() {
  # Already running (and ours): nothing to do.
  if is_running "$PG_NAME" && pg_is_ours "$(read_pid "$PG_NAME")"; then return 0; fi
  rm -f "$(pidfile "$PG_NAME")"  # stale: its pid is gone or now belongs to another process
  local bindir pid
  bindir="$(pg_bindir)" || die "PostgreSQL is not installed; run: $0 install"
  pid="$(pg_postmaster_pid || true)"
  if [[ -n "$pid" ]]; then
    # Our cluster is up but the pid file was lost: adopt it.
    record_pid "$PG_NAME" "$pid"
    return 0
  fi
  pg_init
  pg_write_config
  rm -f "$PG_DATA/postmaster.pid"
  log "starting PostgreSQL on 127.0.0.1:$DANAU_PG_PORT"
  : >>"$PG_LOG"
  # setsid/nohup/setpriv all exec, so the recorded pid is the postmaster's own.
  start_daemon "$PG_NAME" "$PG_LOG" "${AS_PG[@]}" "$bindir/postgres" -D "$PG_DATA"
  pid="$(read_pid "$PG_NAME")"
  pg_wait_ready "$bindir" "$pid"
  pg_provision "$bindir"
  log "PostgreSQL up (pid $pid): databases ${PG_DATABASES[*]}, role $DANAU_PG_USER"
}

cmd_stop() {
  local bindir pid
  pid="$(pg_postmaster_pid || true)"
  if [[ -n "$pid" ]] && bindir="$(pg_bindir)"; then
    log "stopping PostgreSQL (pid $pid)"
    # Fast shutdown of our cluster only: pg_ctl checks the data directory's postmaster.pid.
    as_pg "$bindir/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null 2>>"$PG_LOG" || true
  fi
  # Escalate (stop_daemon) only if the recorded pid is still our postmaster; a stale pid file
  # must not make us signal whatever process has that pid now.
  if is_running "$PG_NAME" && pg_is_ours "$(read_pid "$PG_NAME")"; then
    stop_daemon "$PG_NAME"
  fi
  rm -f "$(pidfile "$PG_NAME")"
}

cmd_status() {
  local addr="127.0.0.1:$DANAU_PG_PORT" pid info
  if ! is_running "$PG_NAME"; then
    status_line postgres "$addr" no "not running"
    return 1
  fi
  pid="$(read_pid "$PG_NAME")"
  if info="$(PGPASSWORD="$DANAU_PG_PASSWORD" PGCONNECT_TIMEOUT=3 psql -X -At -h 127.0.0.1 -p "$DANAU_PG_PORT" \
      -U "$DANAU_PG_USER" -d danau_control \
      -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', wal_level=' || current_setting('wal_level')" 2>/dev/null)"; then
    status_line postgres "$addr" yes "pid $pid, $info"
    return 0
  fi
  status_line postgres "$addr" no "pid $pid, not accepting connections as $DANAU_PG_USER"
  return 1
}

dispatch "$@"
