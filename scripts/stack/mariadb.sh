#!/usr/bin/env bash
# MariaDB for the local stack: the `clinic` source database, with a row-based binlog for CDC.
# Its own data directory under $DANAU_HOME/mariadb, listening on 127.0.0.1:$DANAU_MARIADB_PORT.
#
#   scripts/stack/mariadb.sh install|start|stop|status
#
# The server is started with --defaults-file pointing at our own config, so nothing of
# /etc/mysql applies, and it never depends on (or touches) the server the Debian package may
# have set up in /var/lib/mysql on port 3306.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MDB_NAME=mariadb
DANAU_HOME="$(cd "$DANAU_HOME" && pwd)"
MDB_HOME="$DANAU_HOME/mariadb"
MDB_DATA="$MDB_HOME/data"
MDB_BINLOG_DIR="$MDB_HOME/binlog"
MDB_TMP="$MDB_HOME/tmp"
MDB_CNF="$MDB_HOME/my.cnf"
MDB_SOCKET="$DANAU_HOME/run/mariadb.sock"
MDB_LOG="$DANAU_HOME/logs/mariadb.log"

mdb_server_bin() {
  local b
  for b in /usr/sbin/mariadbd /usr/sbin/mysqld; do
    [[ -x "$b" ]] && { echo "$b"; return 0; }
  done
  return 1
}

mdb_installed() {
  mdb_server_bin >/dev/null && command -v mariadb-install-db >/dev/null && command -v mariadb >/dev/null
}

cmd_install() {
  # The Debian postinst initialises /var/lib/mysql and may try to start its own server on
  # port 3306 (policy-rc.d permitting). We use neither and leave it alone.
  mdb_installed || apt_install mariadb-server mariadb-client
  mdb_installed || die "MariaDB binaries (mariadbd, mariadb-install-db, mariadb) not found after install"
  mdb_init
}

# `--user=root` is required when running as root; otherwise the server runs as ourselves.
mdb_user_args() {
  if [[ $EUID -eq 0 ]]; then echo "--user=root"; fi
}

mdb_write_config() {
  (( ${#MDB_SOCKET} <= 100 )) || die "socket path $MDB_SOCKET is too long for a unix socket; use a shorter DANAU_HOME"
  mkdir -p "$MDB_DATA" "$MDB_BINLOG_DIR" "$MDB_TMP"
  cat >"$MDB_CNF" <<EOF
# Written by scripts/stack/mariadb.sh on every start; edit the script, not this file.
[client]
host = 127.0.0.1
port = $DANAU_MARIADB_PORT
socket = $MDB_SOCKET
default-character-set = utf8mb4

[mysqld]
datadir = $MDB_DATA
tmpdir = $MDB_TMP
port = $DANAU_MARIADB_PORT
bind-address = 127.0.0.1
socket = $MDB_SOCKET
pid-file = $MDB_HOME/mariadbd.pid
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
default-time-zone = '+00:00'
# Row-based binlog for CDC (what DMS requires of a MySQL source).
server_id = 1
log-bin = $MDB_BINLOG_DIR/mariadb-bin
log-bin-index = $MDB_BINLOG_DIR/mariadb-bin.index
binlog_format = ROW
binlog_row_image = FULL
binlog_row_metadata = FULL
binlog_expire_logs_seconds = 259200
max_binlog_size = 256M
# Small footprint for a development machine.
innodb_buffer_pool_size = 128M
performance_schema = OFF
max_connections = 200
EOF
}

mdb_init() {
  mdb_write_config
  if [[ -d "$MDB_DATA/mysql" ]]; then return 0; fi
  log "initialising MariaDB data directory in $MDB_DATA"
  # shellcheck disable=SC2046
  mariadb-install-db --defaults-file="$MDB_CNF" $(mdb_user_args) --datadir="$MDB_DATA" \
    --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve >>"$MDB_LOG" 2>&1 \
    || { rm -rf "$MDB_DATA/mysql"; die "mariadb-install-db failed (see $MDB_LOG)"; }
}

# Admin client: the server's root over our socket (unix_socket authentication as OS root).
mdb_root() {
  mariadb --no-defaults --protocol=SOCKET -S "$MDB_SOCKET" -u root --default-character-set=utf8mb4 "$@"
}

# SQL string literal.
sql_quote() {
  local s="${1//\\/\\\\}"
  printf "'%s'" "${s//\'/\'\'}"
}

mdb_wait_ready() {
  local pid="$1"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || die "MariaDB exited during startup (see $MDB_LOG)"
    if mdb_root -N -e 'SELECT 1' >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "MariaDB did not become ready within 60s (see $MDB_LOG)"
}

mdb_provision() {
  local u pw
  u="$(sql_quote "$DANAU_MARIADB_USER")"
  pw="$(sql_quote "$DANAU_MARIADB_PASSWORD")"
  # Kept out of the binlog: account housekeeping is nothing a CDC reader should see.
  mdb_root <<SQL
SET SESSION sql_log_bin = 0;
CREATE DATABASE IF NOT EXISTS clinic CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS $u@'127.0.0.1' IDENTIFIED BY $pw;
CREATE USER IF NOT EXISTS $u@'localhost' IDENTIFIED BY $pw;
ALTER USER $u@'127.0.0.1' IDENTIFIED BY $pw;
ALTER USER $u@'localhost' IDENTIFIED BY $pw;
GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO $u@'127.0.0.1', $u@'localhost';
GRANT ALL PRIVILEGES ON clinic.* TO $u@'127.0.0.1', $u@'localhost';
-- mariadb-install-db grants a proxy to root@<hostname>, which skip-name-resolve warns about.
DELETE FROM mysql.proxies_priv WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1', '::1');
FLUSH PRIVILEGES;
SQL
}

# True when PID is a mariadbd started with our config file.
mdb_is_ours() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"--defaults-file=$MDB_CNF "* ]]
}

# mariadbd's pid when our server is up (from the pid file it writes itself), else nothing.
mdb_server_pid() {
  local pid
  [[ -f "$MDB_HOME/mariadbd.pid" ]] || return 1
  pid="$(head -n 1 "$MDB_HOME/mariadbd.pid" 2>/dev/null)"
  mdb_is_ours "$pid" || return 1
  echo "$pid"
}

cmd_start() {
  # Already running (and ours): nothing to do.
  if is_running "$MDB_NAME" && mdb_is_ours "$(read_pid "$MDB_NAME")"; then return 0; fi
  rm -f "$(pidfile "$MDB_NAME")"  # stale: its pid is gone or now belongs to another process
  local bin pid
  bin="$(mdb_server_bin)" || die "MariaDB is not installed; run: $0 install"
  pid="$(mdb_server_pid || true)"
  if [[ -n "$pid" ]]; then
    # Our server is up but the pid file was lost: adopt it.
    record_pid "$MDB_NAME" "$pid"
    return 0
  fi
  mdb_init
  log "starting MariaDB on 127.0.0.1:$DANAU_MARIADB_PORT"
  # --defaults-file must be the first option. setsid/nohup exec, so the pid is mariadbd's own.
  # shellcheck disable=SC2046
  start_daemon "$MDB_NAME" "$MDB_LOG" "$bin" --defaults-file="$MDB_CNF" $(mdb_user_args)
  pid="$(read_pid "$MDB_NAME")"
  mdb_wait_ready "$pid"
  mdb_provision
  log "MariaDB up (pid $pid): database clinic, user $DANAU_MARIADB_USER"
}

cmd_stop() {
  local pid
  pid="$(mdb_server_pid || true)"
  # Our server is up but the pid file was lost: adopt it so that it gets stopped too.
  if [[ -n "$pid" ]] && ! is_running "$MDB_NAME"; then record_pid "$MDB_NAME" "$pid"; fi
  # A stale pid file must not make us signal whatever process has that pid now.
  if is_running "$MDB_NAME" && mdb_is_ours "$(read_pid "$MDB_NAME")"; then
    log "stopping MariaDB (pid $(read_pid "$MDB_NAME"))"
    # SIGTERM is MariaDB's clean shutdown (stop_daemon waits up to 30 s, then SIGKILL).
    stop_daemon "$MDB_NAME"
  fi
  rm -f "$(pidfile "$MDB_NAME")"
}

cmd_status() {
  local addr="127.0.0.1:$DANAU_MARIADB_PORT" pid info
  if ! is_running "$MDB_NAME"; then
    status_line mariadb "$addr" no "not running"
    return 1
  fi
  pid="$(read_pid "$MDB_NAME")"
  if info="$(MYSQL_PWD="$DANAU_MARIADB_PASSWORD" mariadb --no-defaults --protocol=TCP -h 127.0.0.1 \
      -P "$DANAU_MARIADB_PORT" -u "$DANAU_MARIADB_USER" --connect-timeout=3 -N -B \
      -e "SELECT CONCAT('MariaDB ', VERSION(), ', binlog_format=', @@binlog_format)" 2>/dev/null)"; then
    status_line mariadb "$addr" yes "pid $pid, $info"
    return 0
  fi
  status_line mariadb "$addr" no "pid $pid, not accepting connections as $DANAU_MARIADB_USER"
  return 1
}

dispatch "$@"
