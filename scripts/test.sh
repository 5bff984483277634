#!/usr/bin/env bash
# npm test: bring the stack up (installing what is missing), lint, then run every test against it:
# the lake job's own tests (pytest, in the warm engine), unit tests of pure logic, integration tests against the real databases, S3 server and Spark, and
# workflow tests against the real Temporal server (in the danau-test namespace).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
# The Node setup installed, for eslint, the bundle and the tests (scripts/stack/node.sh says why).
DANAU_ROOT="$PWD"
source scripts/stack/node-path.sh
echo "[test] lint"
npx eslint --max-warnings 0 .
echo "[test] workflow bundle"
node dist/scripts/build-workflow-bundle.js >/dev/null && rm -f dist/workflow-bundle.js
echo "[test] lake job (Python, against the warm engine)"
( source scripts/stack/lib.sh && "$DANAU_VENV/bin/python" -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning scripts/spark/tests )
echo "[test] running tests"
# One file at a time: the machine has two cores and Spark wants both.
# The test folders only: test/support holds helpers and a worker script, not tests. File names, not
# folders: Node 24's `node --test` takes its arguments as glob patterns, and a folder matches no file.
node --test --test-concurrency=1 --test-reporter=spec dist/test/{unit,integration,workflows,ui}/*.test.js
