#!/usr/bin/env bash
# Everything `npm run demo` and `npm test` need before they run, idempotently: Node 24, the Node
# dependencies, the TypeScript build, the local stack (installing what is missing), Debian's chromium
# for the Web UI test, control-plane migrations and the sample sources. A second run on a ready
# machine takes seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Node 24 in $DANAU_HOME/node, first on PATH from here on: npm, tsc, the worker and danau run on it.
bash scripts/stack/node.sh install
DANAU_ROOT="$PWD"
source scripts/stack/node-path.sh

# Only when node_modules is missing or older than the lock: `npm ci` starts from an empty node_modules.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[setup] installing Node dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "[setup] building"
npm run --silent build

bash scripts/stack/stack.sh up
# Headless Chromium for the Web UI test (test/ui/); apt-get runs only when it is missing.
bash scripts/stack/chromium.sh install
scripts/cli/danau migrate
bash scripts/stack/sample.sh load >/dev/null
