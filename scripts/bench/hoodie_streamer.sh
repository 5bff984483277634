#!/usr/bin/env bash
# Run Apache Hudi's HoodieStreamer (a Java main class) on this machine with exactly the Spark setup of
# scripts/spark/submit.sh: the same spark-submit, confs, environment, log4j config and jars.
#
#   scripts/bench/hoodie_streamer.sh <hudi-utilities(-slim)-bundle.jar> [HoodieStreamer arguments…]
#
# submit.sh runs a job file as the primary resource and ends in `exec <spark-submit> <options…> <job>
# <job args…>`; it has no way to name a main class. So this script sources it with the jar as the job
# and `exec` shadowed by a function that puts `--class` in front of the jar, and nothing else changes.
# Used by scripts/bench/lake.ts; the slim bundle needs the Hudi Spark bundle, which submit.sh already
# puts on the classpath. DANAU_STREAMER_CLASS overrides the main class.
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 <hudi-utilities-bundle.jar> [HoodieStreamer args…]" >&2; exit 2; }
streamer_jar="$(readlink -f "$1")"
[[ -s "$streamer_jar" ]] || { echo "$0: no such jar: $1" >&2; exit 2; }
streamer_class="${DANAU_STREAMER_CLASS:-org.apache.hudi.utilities.streamer.HoodieStreamer}"
streamer_args=("${@:2}")

# Called by submit.sh's last line as: exec <spark-submit> <options…> <jar> <streamer args…>
# (bash looks up functions before builtins, `exec` included, outside POSIX mode).
exec() {
  local argv=("$@")
  local at=$(( ${#argv[@]} - ${#streamer_args[@]} - 1 ))
  if (( at < 1 )) || [[ "${argv[$at]}" != "$streamer_jar" ]]; then
    echo "$0: scripts/spark/submit.sh no longer ends in 'exec <spark-submit> <options> <job> <args>'; update this script" >&2
    command exit 1
  fi
  command exec "${argv[@]:0:$at}" --class "$streamer_class" "${argv[@]:$at}"
}

set -- "$streamer_jar" "${streamer_args[@]}"
# shellcheck source=../spark/submit.sh
source "$(dirname "${BASH_SOURCE[0]}")/../spark/submit.sh"
echo "$0: scripts/spark/submit.sh returned without starting spark-submit" >&2
exit 1
