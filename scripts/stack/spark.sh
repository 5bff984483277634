#!/usr/bin/env bash
# Spark + Apache Hudi for the local stack: pyspark from PyPI in the shared venv, the Hudi Spark
# bundle and hadoop-aws (+ the AWS SDK bundle it was built against) from Maven Central in
# $DANAU_HOME/jars. There is no daemon: jobs run with `spark-submit --master local[*]` through
# scripts/spark/submit.sh.
#
# The versions match Amazon EMR 7.10.0, the newest EMR 7 release on Hudi 0.15 (Spark 3.5.5-amzn-1,
# Hudi 0.15.0-amzn-7); emr-7.11.0 and later moved to Hudi 1.0.2 (table version 8).
#   - pyspark 3.5.5: EMR 7.10's Spark. OSS Hudi 0.15.0 is compiled against Spark 3.5.1; Spark 3.5.2
#     and 3.5.3 broke a SessionCatalog method its DROP TABLE calls (apache/hudi#12099), 3.5.5 does
#     not (checked: datasource upserts/deletes/reads and SQL create/insert/merge/drop pass).
#   - Hudi 0.15.0 (hudi-spark3.5-bundle_2.12): the newest 0.15.x Maven Central serves.
#   - hadoop-aws 3.3.4: the Hadoop that every pyspark 3.5.x wheel bundles (hadoop-client-api-3.3.4).
#   - aws-java-sdk-bundle 1.12.262: the AWS SDK hadoop-aws 3.3.4 declares.
#
# Subcommands: install (idempotent), status (cheap, no JVM), smoke (runs scripts/spark/hudi_smoke.py).
# This file may also be sourced (scripts/spark/submit.sh does) to get the pins and jar paths.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYSPARK_VERSION="3.5.5"
HUDI_VERSION="0.15.0"
HADOOP_AWS_VERSION="3.3.4"
AWS_SDK_BUNDLE_VERSION="1.12.262"
MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# group:artifact:version of every jar a job gets on its classpath.
SPARK_JAR_COORDS=(
  "org.apache.hudi:hudi-spark3.5-bundle_2.12:$HUDI_VERSION"
  "org.apache.hadoop:hadoop-aws:$HADOOP_AWS_VERSION"
  "com.amazonaws:aws-java-sdk-bundle:$AWS_SDK_BUNDLE_VERSION"
)
SPARK_JARS_DIR="$DANAU_HOME/jars"
SPARK_SUBMIT="$DANAU_VENV/bin/spark-submit"

# The jar file for a group:artifact:version coordinate.
jar_path() {
  local ga="${1%:*}" version="${1##*:}"
  echo "$SPARK_JARS_DIR/${ga#*:}-$version.jar"
}

# Comma-separated jar paths for spark-submit --jars.
spark_jars_csv() {
  local out="" c
  for c in "${SPARK_JAR_COORDS[@]}"; do out+="${out:+,}$(jar_path "$c")"; done
  echo "$out"
}

# True when the venv holds exactly the pinned pyspark (looks at pip's metadata, starts nothing).
pyspark_installed() {
  compgen -G "$DANAU_VENV/lib/python3*/site-packages/pyspark-$PYSPARK_VERSION.dist-info" >/dev/null \
    && [[ -x "$SPARK_SUBMIT" ]]
}

# The Java version from the JDK's release file, so no JVM has to start.
java_version() {
  local java home
  java="$(command -v java 2>/dev/null)" || return 1
  home="$(dirname "$(dirname "$(readlink -f "$java")")")"
  if [[ -f "$home/release" ]]; then
    sed -n 's/^JAVA_VERSION="\(.*\)"$/\1/p' "$home/release"
  else
    # A JRE laid out without a release file: fall back to asking it.
    java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -1
  fi
}

fetch_jar() {
  local coord="$1" dest tmp
  dest="$(jar_path "$coord")"
  [[ -s "$dest" ]] && return 0
  log "fetching $coord"
  tmp="$(mktemp -d "$SPARK_JARS_DIR/.fetch.XXXXXX")"
  if ! mvn -B -q "$MAVEN_DEPENDENCY_PLUGIN:copy" -Dartifact="$coord" -DoutputDirectory="$tmp" </dev/null >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "could not fetch $coord with Maven"
  fi
  mv "$tmp/$(basename "$dest")" "$dest"   # whole file or nothing
  rm -rf "$tmp" "$tmp.log"
}

install() {
  local c ga name
  # Java 17 runs Spark 3.5 (the launcher adds the --add-opens flags it needs); Maven fetches the jars.
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  ensure_venv
  if ! pyspark_installed; then
    log "installing pyspark==$PYSPARK_VERSION (about 320 MB)"
    "$DANAU_VENV/bin/pip" install --quiet "pyspark==$PYSPARK_VERSION"
  fi
  mkdir -p "$SPARK_JARS_DIR"
  local need_jars=no
  for c in "${SPARK_JAR_COORDS[@]}"; do [[ -s "$(jar_path "$c")" ]] || need_jars=yes; done
  if [[ "$need_jars" == yes ]]; then
    command -v mvn >/dev/null 2>&1 || apt_install maven
    for c in "${SPARK_JAR_COORDS[@]}"; do fetch_jar "$c"; done
  fi
  # Drop other versions of the same artifacts left by an earlier pin.
  for c in "${SPARK_JAR_COORDS[@]}"; do
    ga="${c%:*}"; name="${ga#*:}"
    for f in "$SPARK_JARS_DIR/$name"-*.jar; do
      [[ -e "$f" && "$f" != "$(jar_path "$c")" && "$(basename "$f")" =~ ^$name-[0-9] ]] && rm -f "$f"
    done
  done
  mkdir -p "$DANAU_HOME/spark"
}

status() {
  local healthy=yes problems=() c jv
  pyspark_installed || { healthy=no; problems+=("pyspark $PYSPARK_VERSION missing"); }
  for c in "${SPARK_JAR_COORDS[@]}"; do
    [[ -s "$(jar_path "$c")" ]] || { healthy=no; problems+=("$(basename "$(jar_path "$c")") missing"); }
  done
  if jv="$(java_version)" && [[ -n "$jv" ]]; then
    [[ "${jv%%.*}" -ge 17 ]] || { healthy=no; problems+=("java $jv is older than 17"); }
  else
    healthy=no; jv="missing"; problems+=("java missing")
  fi
  local address="local[*]"
  [[ -x "$SPARK_SUBMIT" ]] && address="$SPARK_SUBMIT"
  local detail="pyspark $PYSPARK_VERSION, hudi $HUDI_VERSION, java $jv"
  if [[ ${#problems[@]} -gt 0 ]]; then
    detail="$(printf '%s; ' "${problems[@]}")"
    detail="${detail%; } (run: scripts/stack/spark.sh install)"
  fi
  status_line spark "$address" "$healthy" "$detail"
  [[ "$healthy" == yes ]]
}

smoke() {
  status >/dev/null || die "Spark is not installed: run scripts/stack/spark.sh install"
  local started rc=0
  started=$(date +%s)
  log "running the Hudi smoke job against $DANAU_S3_ENDPOINT (bucket $DANAU_PROCESSED_BUCKET)"
  bash "$DANAU_ROOT/scripts/spark/submit.sh" "$DANAU_ROOT/scripts/spark/hudi_smoke.py" "$@" || rc=$?
  log "smoke job $( [[ $rc -eq 0 ]] && echo passed || echo "FAILED (exit $rc)" ) in $(( $(date +%s) - started ))s"
  return $rc
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  case "${1:-}" in
    install|status) "$1" ;;
    smoke) shift; smoke "$@" ;;
    *) echo "usage: $0 install|status|smoke [hudi_smoke.py args]" >&2; exit 2 ;;
  esac
fi
