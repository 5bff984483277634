#!/usr/bin/env bash
# Run a PySpark job on this machine as its own application: scripts/spark/submit.sh <job.py> [args…]
#
# The local stand-in for an EMR step: `spark-submit --master local[*]` from the venv's pyspark, with
# the same jars, Spark confs and S3A settings as the warm engine (scripts/stack/spark.sh,
# spark_prepare, which lists the tunables). Lake jobs run in the warm engine instead; this is for
# one-off work: the Hudi smoke test, and benchmarks that measure a cold start.
source "$(dirname "${BASH_SOURCE[0]}")/../stack/spark.sh"

[[ $# -ge 1 ]] || { echo "usage: $0 <job.py> [args…]" >&2; exit 2; }
job="$1"; shift
[[ -f "$job" ]] || die "no such job file: $job"

spark_prepare "danau:$(basename "$job" .py)" "${DANAU_SPARK_FAST_START:-true}"
exec "$SPARK_SUBMIT" "${SPARK_ARGS[@]}" "$job" "$@"
