#!/usr/bin/env bash
# Everything `npm run demo` and `npm test` need before they run, idempotently: Node dependencies, the
# TypeScript build, the local stack (installing what is missing), Debian's chromium for the Web UI
# test, control-plane migrations and the sample sources. A second run on a ready machine takes seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[setup] installing Node dependencies"
  # Not `npm ci`: npm 11 leaves @swc/core's optional per-platform packages out of the lock file and
  # then refuses it in `npm ci`. `install --no-save` follows the lock and leaves it untouched.
  npm install --no-save --no-audit --no-fund --loglevel=error
fi

echo "[setup] building"
npm run --silent build

bash scripts/stack/stack.sh up
# Headless Chromium for the Web UI test (test/ui/); apt-get runs only when it is missing.
bash scripts/stack/chromium.sh install
node dist/scripts/cli/danau.js migrate
bash scripts/stack/sample.sh load >/dev/null
