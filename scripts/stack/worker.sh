#!/usr/bin/env bash
# The Danau worker process (one Temporal worker per task queue: control, spark, io), run from the
# compiled build. `start` restarts it when the build is newer than the running process.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MAIN="$DANAU_ROOT/dist/workers/main.js"
: "${DANAU_METRICS_PORT:=9464}"

start() {
  [[ -f "$MAIN" ]] || die "no build at $MAIN: run npm run build first"
  if is_running worker && [[ -n "$(find "$DANAU_ROOT/dist" -name '*.js' -newer "$(pidfile worker)" -print -quit)" ]]; then
    log "build changed since the worker started; restarting it"
    stop_daemon worker
  fi
  if ! is_running worker; then
    log "starting the Danau worker (log: $DANAU_HOME/logs/worker.log)"
    start_daemon worker "$DANAU_HOME/logs/worker.log" node "$MAIN"
  fi
  # Ready when this very process has logged that its workers are polling (the metrics port opens
  # earlier, and could be anyone's).
  local pid; pid="$(read_pid worker)"
  for _ in $(seq 1 120); do
    is_running worker || die "the worker exited at start (see $DANAU_HOME/logs/worker.log)"
    grep -q "\"pid\":$pid,.*\"msg\":\"workers started\"" "$DANAU_HOME/logs/worker.log" 2>/dev/null && return 0
    sleep 0.5
  done
  die "the worker did not become ready in 60s (see $DANAU_HOME/logs/worker.log)"
}

stop() { stop_daemon worker; }

status() {
  if is_running worker && curl -fsS "http://127.0.0.1:$DANAU_METRICS_PORT/metrics" >/dev/null 2>&1; then
    status_line worker "queues control,spark,io" yes "pid $(read_pid worker), metrics http://127.0.0.1:$DANAU_METRICS_PORT/metrics"
  else
    status_line worker "queues control,spark,io" no "not running (danau stack up starts it)"
    return 1
  fi
}

case "${1:-}" in
  start|stop|status) "$1" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
