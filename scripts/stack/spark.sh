#!/usr/bin/env bash
# Spark + Apache Hudi for the local stack: pyspark from PyPI in the shared venv, the Hudi Spark
# bundle and hadoop-aws (+ the AWS SDK bundle it was built against) from Maven Central in
# $DANAU_HOME/jars; and the warm engine: one long-lived Spark application serving Spark Connect on
# $DANAU_SPARK_CONNECT_URL (sc://127.0.0.1:15002), in which every lake job runs (python -m danau_lake
# … --remote). scripts/spark/submit.sh still runs one-off jobs with spark-submit --master local[*]
# (the Hudi smoke test, benchmarks of a cold start; EMR steps in production).
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
# Subcommands: install (idempotent), start | stop | restart (the Spark Connect server, supervised: it
# comes back by itself when its JVM dies), status (cheap: files and one TCP connect), smoke (runs
# scripts/spark/hudi_smoke.py).
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
# The Spark Connect server (Spark's own, 3.5): only the warm engine puts it on its classpath.
SPARK_CONNECT_COORD="org.apache.spark:spark-connect_2.12:$PYSPARK_VERSION"
# What the Python side needs beside pyspark: the Spark Connect client's own dependencies at the
# versions Spark 3.5 is built and tested with (dev/requirements.txt of v3.5.5), boto3 for the job's
# small S3 reads (the timeline, specs, results), jsonschema for the job's contract, pytest for its tests.
PYTHON_JOB_REQUIREMENTS=(
  "pandas==2.2.3" "numpy==1.26.4" "pyarrow==17.0.0"
  "grpcio==1.59.3" "grpcio-status==1.59.3" "protobuf==4.25.1" "googleapis-common-protos==1.56.4"
  "boto3>=1.34" "jsonschema>=4.18" "pytest==8.3.4"
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
  local c ga name stamp want
  # Java 17 runs Spark 3.5 (the launcher adds the --add-opens flags it needs); Maven fetches the jars.
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  ensure_venv
  if ! pyspark_installed; then
    log "installing pyspark==$PYSPARK_VERSION (about 320 MB)"
    "$DANAU_VENV/bin/pip" install --quiet "pyspark==$PYSPARK_VERSION"
  fi
  stamp="$DANAU_VENV/.danau-job-requirements"
  want="$(printf '%s\n' "${PYTHON_JOB_REQUIREMENTS[@]}")"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "installing the lake job's Python requirements (Spark Connect client, boto3, jsonschema, pytest)"
    "$DANAU_VENV/bin/pip" install --quiet "${PYTHON_JOB_REQUIREMENTS[@]}"
    printf '%s\n' "$want" > "$stamp"
  fi
  mkdir -p "$SPARK_JARS_DIR"
  local need_jars=no
  for c in "${SPARK_JAR_COORDS[@]}" "$SPARK_CONNECT_COORD"; do [[ -s "$(jar_path "$c")" ]] || need_jars=yes; done
  if [[ "$need_jars" == yes ]]; then
    command -v mvn >/dev/null 2>&1 || apt_install maven
    for c in "${SPARK_JAR_COORDS[@]}" "$SPARK_CONNECT_COORD"; do fetch_jar "$c"; done
  fi
  # Drop other versions of the same artifacts left by an earlier pin.
  for c in "${SPARK_JAR_COORDS[@]}" "$SPARK_CONNECT_COORD"; do
    ga="${c%:*}"; name="${ga#*:}"
    for f in "$SPARK_JARS_DIR/$name"-*.jar; do
      [[ -e "$f" && "$f" != "$(jar_path "$c")" && "$(basename "$f")" =~ ^$name-[0-9] ]] && rm -f "$f"
    done
  done
  build_engine_jar
  mkdir -p "$DANAU_HOME/spark"
}

# The engine's own classes (scripts/spark/engine/*.java: the loopback-only gRPC interceptor), compiled
# against the Spark Connect jar into $DANAU_HOME/jars/danau-engine.jar when a source is newer.
ENGINE_JAR="$DANAU_HOME/jars/danau-engine.jar"
build_engine_jar() {
  local src="$DANAU_ROOT/scripts/spark/engine" f stale=no out
  [[ -s "$ENGINE_JAR" ]] || stale=yes
  for f in "$src"/*.java; do [[ "$f" -nt "$ENGINE_JAR" ]] && stale=yes; done
  [[ "$stale" == yes ]] || return 0
  command -v javac >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless
  log "compiling the engine's loopback guard (scripts/spark/engine)"
  out="$(mktemp -d)"
  javac -nowarn --release 17 -cp "$(jar_path "$SPARK_CONNECT_COORD")" -d "$out" "$src"/*.java >/dev/null \
    || { rm -rf "$out"; die "could not compile scripts/spark/engine"; }
  (cd "$out" && jar cf "$ENGINE_JAR.tmp" .) && mv "$ENGINE_JAR.tmp" "$ENGINE_JAR"
  rm -rf "$out"
}

# spark_prepare APP_NAME FAST_START: the state folders, config files and environment every local
# Spark JVM uses, and SPARK_ARGS: spark-submit's options (master, memory, jars, confs). Used by
# scripts/spark/submit.sh for one-off jobs and by the Spark Connect server below, so both run with
# the same settings. Tunables (environment): DANAU_SPARK_DRIVER_MEMORY (default 4g), DANAU_SPARK_UI
# (true to serve the Spark UI on 127.0.0.1:4040, default false), DANAU_SPARK_LOG_LEVEL (default
# WARN), DANAU_SPARK_FAST_START (one-off jobs, default true: C1-only JIT, see below),
# DANAU_SPARK_JAVA_OPTS (more driver JVM options), DANAU_SPARK_CONF ("key=value …": extra --conf
# entries, applied last).
spark_prepare() {
  local app_name="$1" fast_start="$2" c
  pyspark_installed || die "Spark is not installed: run scripts/stack/spark.sh install"
  for c in "${SPARK_JAR_COORDS[@]}"; do [[ -s "$(jar_path "$c")" ]] || die "missing $(jar_path "$c"): run scripts/stack/spark.sh install"; done

  SPARK_STATE="$DANAU_HOME/spark"
  mkdir -p "$SPARK_STATE/conf" "$SPARK_STATE/local" "$SPARK_STATE/events" "$SPARK_STATE/tmp" "$SPARK_STATE/warehouse"

  # Logging: WARN for everything, and silence the few warnings every local run prints for nothing.
  local log4j_conf="$SPARK_STATE/conf/log4j2.properties" log4j_new
  log4j_new="$(printf '%s\n' \
    "# Written by scripts/stack/spark.sh on every run; edit DANAU_SPARK_LOG_LEVEL instead." \
    "rootLogger.level = ${DANAU_SPARK_LOG_LEVEL:-WARN}" \
    "rootLogger.appenderRef.stderr.ref = console" \
    "appender.console.type = Console" \
    "appender.console.name = console" \
    "appender.console.target = SYSTEM_ERR" \
    "appender.console.layout.type = PatternLayout" \
    "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex" \
    "logger.nativecode.name = org.apache.hadoop.util.NativeCodeLoader" \
    "logger.nativecode.level = ERROR" \
    "logger.metrics2.name = org.apache.hadoop.metrics2" \
    "logger.metrics2.level = ERROR" \
    "logger.hudiconf.name = org.apache.hudi.common.config.DFSPropertiesConfiguration" \
    "logger.hudiconf.level = ERROR" \
    "logger.hudimetaconf.name = org.apache.hudi.common.config.HoodieConfig" \
    "logger.hudimetaconf.level = ERROR" \
    "logger.sparkutils.name = org.apache.spark.util.Utils" \
    "logger.sparkutils.level = ERROR" \
    "logger.jetty.name = org.sparkproject.jetty" \
    "logger.jetty.level = ERROR" \
    "# Hudi's metadata table calls hsync() on S3A streams, which S3 cannot honour; S3A warns on every file." \
    "logger.s3async.name = org.apache.hadoop.fs.s3a.S3ABlockOutputStream" \
    "logger.s3async.level = ERROR" \
    "# Hudi 0.15 logs \"Closing write client\" at WARN after every datasource write." \
    "logger.hudiwriter.name = org.apache.hudi.HoodieSparkSqlWriterInternal" \
    "logger.hudiwriter.level = ERROR")"
  if [[ ! -f "$log4j_conf" ]] || [[ "$(cat "$log4j_conf")" != "$log4j_new" ]]; then
    printf '%s\n' "$log4j_new" > "$log4j_conf.tmp" && mv "$log4j_conf.tmp" "$log4j_conf"
  fi
  # Hudi looks for hudi-defaults.conf in HUDI_CONF_DIR (default /etc/hudi/conf); keep an empty one here.
  [[ -f "$SPARK_STATE/conf/hudi-defaults.conf" ]] || printf '# Hudi defaults for local jobs (empty: jobs pass their options)\n' > "$SPARK_STATE/conf/hudi-defaults.conf"
  # The warm engine runs several tables' jobs at once: each gets a fair share of the cores instead of
  # waiting behind the one before it (Spark's default pool is FIFO within itself).
  printf '%s\n' '<?xml version="1.0"?>' '<!-- Written by scripts/stack/spark.sh. -->' '<allocations>' \
    '  <pool name="default"><schedulingMode>FAIR</schedulingMode><weight>1</weight><minShare>0</minShare></pool>' \
    '</allocations>' > "$SPARK_STATE/conf/fairscheduler.xml"

  export SPARK_CONF_DIR="$SPARK_STATE/conf"
  export HUDI_CONF_DIR="$SPARK_STATE/conf"
  export SPARK_LOCAL_DIRS="$SPARK_STATE/local"
  export SPARK_LOCAL_IP=127.0.0.1
  export PYSPARK_PYTHON="$DANAU_VENV/bin/python"
  export PYSPARK_DRIVER_PYTHON="$DANAU_VENV/bin/python"
  unset SPARK_HOME   # the venv's pyspark finds its own

  # JVM options: local state dirs, UTC (EMR clusters run in UTC, and Hudi's instants are in the JVM's
  # zone). Java 17 needs nothing for Spark itself (spark-submit adds its --add-opens flags), but
  # Hudi's record-size estimator (a shaded JOL) wants an agent attached to its own JVM, which Java 9+
  # refuses unless jdk.attach.allowAttachSelf is set, and then probes the HotSpot Serviceability
  # Agent by spawning helper JVMs (slow, and known to hang): allow the self-attach, skip the SA probe.
  # JOL still prints one "# WARNING: Unable to attach Serviceability Agent ... skipped" line; harmless.
  local driver_java_opts=(
    "-Djava.io.tmpdir=$SPARK_STATE/tmp"
    "-Dderby.system.home=$SPARK_STATE/tmp"
    "-Duser.timezone=UTC"
    "-Djdk.attach.allowAttachSelf=true"
    "-Djol.skipHotspotSAAttach=true"
  )
  # One-off jobs are small and short: compiling with C1 only skips the C2 warm-up that otherwise
  # fights the job for the two cores (the Hudi smoke job: about 30 s instead of 40-45 s). The
  # long-lived engine wants C2's faster code instead.
  [[ "$fast_start" == true ]] && driver_java_opts+=("-XX:TieredStopAtLevel=1")
  [[ -n "${DANAU_SPARK_JAVA_OPTS:-}" ]] && driver_java_opts+=("$DANAU_SPARK_JAVA_OPTS")

  local conf=(
    # Hudi's required Spark settings (https://hudi.apache.org/docs/quick-start-guide, Spark 3.5).
    spark.serializer=org.apache.spark.serializer.KryoSerializer
    spark.kryo.registrator=org.apache.spark.HoodieSparkKryoRegistrar
    spark.sql.extensions=org.apache.spark.sql.hudi.HoodieSparkSessionExtension
    spark.sql.catalog.spark_catalog=org.apache.spark.sql.hudi.catalog.HoodieCatalog
    # One small machine: few partitions, no UI or progress bars unless asked for.
    spark.sql.shuffle.partitions=4
    spark.default.parallelism=4
    spark.ui.enabled="${DANAU_SPARK_UI:-false}"
    spark.ui.showConsoleProgress=false
    spark.driver.host=127.0.0.1
    spark.driver.bindAddress=127.0.0.1
    spark.sql.session.timeZone=UTC
    spark.driver.extraJavaOptions="${driver_java_opts[*]}"
    spark.scheduler.mode=FAIR
    spark.scheduler.allocation.file="file://$SPARK_STATE/conf/fairscheduler.xml"
    # State under $DANAU_HOME/spark (scratch space comes from SPARK_LOCAL_DIRS above).
    spark.eventLog.enabled=true
    spark.eventLog.dir="file://$SPARK_STATE/events"
    spark.eventLog.compress=true
    spark.sql.warehouse.dir="file://$SPARK_STATE/warehouse"
    spark.hadoop.hadoop.tmp.dir="$SPARK_STATE/tmp"
    spark.hadoop.fs.s3a.buffer.dir="$SPARK_STATE/tmp/s3a"
    # S3A for both s3a:// and s3:// (EMRFS's scheme on EMR).
    spark.hadoop.fs.s3.impl=org.apache.hadoop.fs.s3a.S3AFileSystem
    spark.hadoop.fs.AbstractFileSystem.s3.impl=org.apache.hadoop.fs.s3a.S3A
    spark.hadoop.fs.s3a.endpoint.region="${AWS_REGION:-us-east-1}"
    spark.hadoop.fs.s3a.connection.maximum=64
  )
  if [[ -n "${DANAU_S3_ENDPOINT:-}" ]]; then
    conf+=(
      spark.hadoop.fs.s3a.endpoint="$DANAU_S3_ENDPOINT"
      spark.hadoop.fs.s3a.path.style.access="${DANAU_S3_FORCE_PATH_STYLE:-true}"
      # Keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment, never on the command
      # line; and no fall-through to the EC2 instance metadata probe, which stalls off AWS.
      spark.hadoop.fs.s3a.aws.credentials.provider=com.amazonaws.auth.EnvironmentVariableCredentialsProvider
      # A local store that is down should fail the job in seconds, not after minutes of retries.
      spark.hadoop.fs.s3a.attempts.maximum=3
      spark.hadoop.fs.s3a.retry.limit=3
      spark.hadoop.fs.s3a.retry.interval=250ms
      spark.hadoop.fs.s3a.connection.establish.timeout=5000
      spark.hadoop.fs.s3a.connection.timeout=60000
    )
    [[ "$DANAU_S3_ENDPOINT" == http://* ]] && conf+=(spark.hadoop.fs.s3a.connection.ssl.enabled=false)
    [[ -n "${AWS_ACCESS_KEY_ID:-}" && -n "${AWS_SECRET_ACCESS_KEY:-}" ]] \
      || die "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set for the S3 endpoint $DANAU_S3_ENDPOINT"
  fi
  # Caller's extra confs last, so they win.
  if [[ -n "${DANAU_SPARK_CONF:-}" ]]; then
    local extra
    read -r -a extra <<<"$DANAU_SPARK_CONF"
    conf+=("${extra[@]}")
  fi

  SPARK_ARGS=(--master "local[*]" --name "$app_name" --driver-memory "${DANAU_SPARK_DRIVER_MEMORY:-4g}" --jars "$(spark_jars_csv)")
  for c in "${conf[@]}"; do SPARK_ARGS+=(--conf "$c"); done
}

# --- the warm engine: Spark's own Spark Connect server, supervised --------------------------------

CONNECT_URL="${DANAU_SPARK_CONNECT_URL:-sc://127.0.0.1:15002}"
CONNECT_HOSTPORT="${CONNECT_URL#sc://}"; CONNECT_HOSTPORT="${CONNECT_HOSTPORT%%/*}"
CONNECT_HOST="${CONNECT_HOSTPORT%:*}"; CONNECT_PORT="${CONNECT_HOSTPORT##*:}"
CONNECT_LOG="$DANAU_HOME/logs/spark-connect.log"

# serve: run the server in the foreground, and again whenever its JVM ends, until `stop`. The
# supervisor is what `start` records as the daemon: a JVM killed (out of memory, a chaos run) is back
# in the time a JVM takes to start, and a job that was running in it fails and is retried.
cmd_serve() {
  [[ "$CONNECT_HOST" == 127.0.0.1 ]] \
    || die "DANAU_SPARK_CONNECT_URL must name 127.0.0.1: the local engine is for this machine only (got $CONNECT_URL)"
  local connect_jar i child="" rc
  connect_jar="$(jar_path "$SPARK_CONNECT_COORD")"
  [[ -s "$connect_jar" && -s "$ENGINE_JAR" ]] || die "missing $connect_jar or $ENGINE_JAR: run scripts/stack/spark.sh install"
  spark_prepare "danau-warm-engine" false
  # Spark 3.5 cannot bind the server to one address: calls from elsewhere are refused instead.
  SPARK_ARGS+=(--conf "spark.connect.grpc.binding.port=$CONNECT_PORT" --conf "spark.connect.grpc.interceptor.classes=danau.engine.LoopbackOnly")
  # The connect jar joins the others on the classpath; a --class from a --jars jar needs the primary
  # resource `spark-internal`.
  for i in "${!SPARK_ARGS[@]}"; do
    [[ "${SPARK_ARGS[$i]}" == --jars ]] && SPARK_ARGS[i + 1]="${SPARK_ARGS[i + 1]},$connect_jar,$ENGINE_JAR"
  done
  trap '[[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 0' TERM INT
  while true; do
    echo "[spark-connect] $(date -u +%FT%TZ) starting the Spark Connect server on $CONNECT_HOSTPORT"
    "$SPARK_SUBMIT" "${SPARK_ARGS[@]}" --class org.apache.spark.sql.connect.service.SparkConnectServer spark-internal &
    child=$!
    rc=0
    wait "$child" || rc=$?
    child=""
    echo "[spark-connect] $(date -u +%FT%TZ) the server ended (exit $rc); restarting in 2 s"
    sleep 2
  done
}

cmd_start() {
  refuse_foreign_port spark-connect "$CONNECT_HOST" "$CONNECT_PORT"
  if ! is_running spark-connect; then
    log "starting the warm Spark engine (Spark Connect) on $CONNECT_HOSTPORT"
    start_daemon spark-connect "$CONNECT_LOG" bash "${BASH_SOURCE[0]}" serve
  fi
  wait_for_port "$CONNECT_HOST" "$CONNECT_PORT" 180 spark-connect
}

cmd_stop() {
  local pid
  pid="$(read_pid spark-connect)"
  # The supervisor and its JVM are one process group (setsid): stop both.
  if is_running spark-connect; then kill -TERM -- "-$pid" 2>/dev/null || true; fi
  stop_daemon spark-connect
}

cmd_restart() { cmd_stop; cmd_start; }

# The engine's JVM (the supervisor's child), for status and for tests that kill it.
connect_jvm_pid() {
  local sup; sup="$(read_pid spark-connect)"
  [[ -n "$sup" ]] && pgrep -P "$sup" -f SparkConnectServer | head -1
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
  # The warm engine: up when its port answers; its JVM's resident and peak memory from /proc.
  local engine=no engine_detail="not running (scripts/stack/spark.sh start)" jvm
  if is_running spark-connect; then
    if port_in_use "$CONNECT_HOST" "$CONNECT_PORT"; then
      engine=yes
      jvm="$(connect_jvm_pid)"
      engine_detail="Spark Connect, supervisor pid $(read_pid spark-connect)"
      [[ -n "$jvm" ]] && engine_detail+=", JVM pid $jvm, memory $(awk '/^VmRSS/ { r = $2 } /^VmHWM/ { h = $2 } END { printf "%d MiB (peak %d MiB)", r / 1024, h / 1024 }' "/proc/$jvm/status")"
    else
      engine_detail="starting, or restarting after its JVM ended (see $CONNECT_LOG)"
    fi
  elif port_in_use "$CONNECT_HOST" "$CONNECT_PORT"; then
    engine_detail="port taken by a process this stack did not start"
  fi
  status_line spark-engine "$CONNECT_URL" "$engine" "$engine_detail"
  [[ "$healthy" == yes && "$engine" == yes ]]
}

cmd_install() { install; }
cmd_status() { status; }
cmd_smoke() {
  pyspark_installed || die "Spark is not installed: run scripts/stack/spark.sh install"
  local started rc=0
  started=$(date +%s)
  log "running the Hudi smoke job against $DANAU_S3_ENDPOINT (bucket $DANAU_PROCESSED_BUCKET)"
  bash "$DANAU_ROOT/scripts/spark/submit.sh" "$DANAU_ROOT/scripts/spark/hudi_smoke.py" "$@" || rc=$?
  log "smoke job $( [[ $rc -eq 0 ]] && echo passed || echo "FAILED (exit $rc)" ) in $(( $(date +%s) - started ))s"
  return $rc
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then dispatch "$@"; fi
