#!/usr/bin/env bash
# Headless Chromium for the Web UI test (test/ui/): Debian's `chromium` package, driven from Node by
# playwright-core, which never downloads a browser of its own (the test launches this binary by path).
# Not part of the running stack: nothing is started, so there is no start/stop.
#
# Subcommands: install (idempotent: apt-get only when the package is missing), status (the version).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The path the test launches (DANAU_CHROMIUM overrides it there and here).
CHROMIUM="${DANAU_CHROMIUM:-/usr/bin/chromium}"

cmd_install() {
  if [[ -x "$CHROMIUM" ]]; then return 0; fi
  apt_install chromium
  [[ -x "$CHROMIUM" ]] || die "the chromium package is installed but $CHROMIUM is missing"
}

cmd_status() {
  local version
  if [[ -x "$CHROMIUM" ]] && version="$("$CHROMIUM" --headless --no-sandbox --version 2>/dev/null)"; then
    status_line chromium "$CHROMIUM" yes "$version"
  else
    status_line chromium "$CHROMIUM" no "not installed (bash scripts/stack/chromium.sh install)"
    return 1
  fi
}

dispatch "$@"
