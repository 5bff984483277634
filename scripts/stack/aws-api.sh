#!/usr/bin/env bash
# An AWS-API-compatible endpoint for the control-plane APIs that have no local engine: moto's server
# (PyPI `moto[server]`). It answers DMS, EMR, Athena and Redshift Data API calls with AWS's own wire format,
# so the production adapters (DmsTaskManager, the EMR step runner) are exercised through the real AWS
# SDK clients. It keeps state in memory: it is for tests and the demo, never for data. Data paths
# stay on the real local engines (S3Mock, Spark, PostgreSQL).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION="5.2.5"
MOTO="$DANAU_VENV/bin/moto_server"
# moto's server plus the lifecycles moto leaves out: a DMS task's creating -> ready, and an EMR step's PENDING -> RUNNING -> end and CancelSteps (see the file).
LAUNCHER="$(dirname "${BASH_SOURCE[0]}")/aws_api_server.py"
HOSTPORT="${DANAU_AWS_API_ENDPOINT#http://}"
HOST="${HOSTPORT%:*}"
PORT="${HOSTPORT##*:}"

cmd_install() {
  if [[ -x "$MOTO" ]] && "$DANAU_VENV/bin/pip" show moto 2>/dev/null | grep -x "Version: $MOTO_VERSION" >/dev/null; then return 0; fi
  ensure_venv
  log "installing moto[server]==$MOTO_VERSION (AWS-API endpoint for DMS, EMR, Redshift Data)"
  "$DANAU_VENV/bin/pip" install --quiet "moto[server]==$MOTO_VERSION"
}

cmd_start() {
  cmd_install
  refuse_foreign_port aws-api "$HOST" "$PORT"
  if ! is_running aws-api; then
    log "starting moto $MOTO_VERSION on $DANAU_AWS_API_ENDPOINT"
    start_daemon aws-api "$DANAU_HOME/logs/aws-api.log" "$DANAU_VENV/bin/python" "$LAUNCHER" -H "$HOST" -p "$PORT"
  fi
  wait_for_port "$HOST" "$PORT" 60 aws-api
}

cmd_stop() { stop_daemon aws-api; }

cmd_status() {
  local healthy=no detail="not running"
  if is_running aws-api; then
    if curl -fsS "$DANAU_AWS_API_ENDPOINT/moto-api/" >/dev/null 2>&1; then healthy=yes; detail="moto $MOTO_VERSION (DMS, EMR, Athena, Redshift Data APIs; in-memory)"
    else detail="running but not answering"; fi
  fi
  status_line aws-api "$DANAU_AWS_API_ENDPOINT" "$healthy" "$detail"
  [[ "$healthy" == yes ]]
}

dispatch "$@"
