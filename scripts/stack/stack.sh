#!/usr/bin/env bash
# The local stack: `up` installs what is missing and starts every part, `down` stops what we started,
# `status` shows each part, its address and whether it is healthy. Safe to run again at any time.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$(dirname "${BASH_SOURCE[0]}")"

# Order matters for `up`: the worker needs everything before it.
SERVICES=(postgres mariadb s3 aws-api temporal spark)

up() {
  local started; started=$(date +%s)
  command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
  # The worker's Node (scripts/setup.sh installed it already; `danau stack up` alone must too).
  bash "$HERE/node.sh" install
  # install is cheap when everything is present, and is what makes a fresh machine work.
  for part in "${SERVICES[@]}"; do bash "$HERE/$part.sh" install && bash "$HERE/$part.sh" start; done
  if [[ -f "$DANAU_ROOT/dist/workers/main.js" ]]; then bash "$HERE/worker.sh" start
  else log "no build yet: the worker starts after npm run build and another stack up"; fi
  log "stack is up in $(( $(date +%s) - started ))s; state in $DANAU_HOME"
  status
}

down() {
  bash "$HERE/worker.sh" stop
  for (( i=${#SERVICES[@]}-1; i>=0; i-- )); do bash "$HERE/${SERVICES[$i]}.sh" stop; done
}

status() {
  local rc=0
  for part in node "${SERVICES[@]}" worker; do bash "$HERE/$part.sh" status || rc=1; done
  return $rc
}

case "${1:-}" in
  up|down|status) "$1" ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
