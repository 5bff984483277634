#!/usr/bin/env bash
# Run a PySpark job on this machine: scripts/spark/submit.sh <job.py> [args…]
#
# The local stand-in for an EMR step: `spark-submit --master local[*]` from the venv's pyspark, with
# the Hudi bundle and hadoop-aws on the classpath, the Spark confs Hudi requires, and S3A pointed at
# the local object store from the environment (config/local.env, overridable by the caller):
#   DANAU_S3_ENDPOINT, DANAU_S3_FORCE_PATH_STYLE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
# Both s3a:// and s3:// paths go to S3A, so a job can use the s3:// paths it uses on EMR.
# Spark's scratch space, event logs and the log4j2 config live under $DANAU_HOME/spark/.
#
# Tunables (environment): DANAU_SPARK_DRIVER_MEMORY (default 4g), DANAU_SPARK_UI (true to serve the
# Spark UI on 127.0.0.1:4040, default false), DANAU_SPARK_LOG_LEVEL (default WARN),
# DANAU_SPARK_FAST_START (default true: C1-only JIT, see below), DANAU_SPARK_JAVA_OPTS (more driver
# JVM options), DANAU_SPARK_CONF ("key=value key=value": extra --conf entries, applied last).
source "$(dirname "${BASH_SOURCE[0]}")/../stack/spark.sh"

[[ $# -ge 1 ]] || { echo "usage: $0 <job.py> [args…]" >&2; exit 2; }
job="$1"; shift
[[ -f "$job" ]] || die "no such job file: $job"

if ! pyspark_installed || [[ ! -s "$(jar_path "${SPARK_JAR_COORDS[0]}")" ]]; then
  die "Spark is not installed: run scripts/stack/spark.sh install"
fi
for c in "${SPARK_JAR_COORDS[@]}"; do [[ -s "$(jar_path "$c")" ]] || die "missing $(jar_path "$c"): run scripts/stack/spark.sh install"; done

SPARK_STATE="$DANAU_HOME/spark"
mkdir -p "$SPARK_STATE/conf" "$SPARK_STATE/local" "$SPARK_STATE/events" "$SPARK_STATE/tmp" "$SPARK_STATE/warehouse"

# Logging: WARN for everything, and silence the few warnings every local run prints for nothing.
LOG_LEVEL="${DANAU_SPARK_LOG_LEVEL:-WARN}"
log4j_conf="$SPARK_STATE/conf/log4j2.properties"
log4j_new="$(cat <<EOF
# Written by scripts/spark/submit.sh on every run; edit DANAU_SPARK_LOG_LEVEL instead.
rootLogger.level = $LOG_LEVEL
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
logger.nativecode.name = org.apache.hadoop.util.NativeCodeLoader
logger.nativecode.level = ERROR
logger.metrics2.name = org.apache.hadoop.metrics2
logger.metrics2.level = ERROR
logger.hudiconf.name = org.apache.hudi.common.config.DFSPropertiesConfiguration
logger.hudiconf.level = ERROR
logger.hudimetaconf.name = org.apache.hudi.common.config.HoodieConfig
logger.hudimetaconf.level = ERROR
logger.sparkutils.name = org.apache.spark.util.Utils
logger.sparkutils.level = ERROR
logger.jetty.name = org.sparkproject.jetty
logger.jetty.level = ERROR
# Hudi's metadata table calls hsync() on S3A streams, which S3 cannot honour; S3A warns on every file.
logger.s3async.name = org.apache.hadoop.fs.s3a.S3ABlockOutputStream
logger.s3async.level = ERROR
# Hudi 0.15 logs "Closing write client" at WARN after every datasource write.
logger.hudiwriter.name = org.apache.hudi.HoodieSparkSqlWriterInternal
logger.hudiwriter.level = ERROR
EOF
)"
if [[ ! -f "$log4j_conf" ]] || [[ "$(cat "$log4j_conf")" != "$log4j_new" ]]; then
  printf '%s\n' "$log4j_new" > "$log4j_conf.tmp" && mv "$log4j_conf.tmp" "$log4j_conf"
fi
# Hudi looks for hudi-defaults.conf in HUDI_CONF_DIR (default /etc/hudi/conf); keep an empty one here.
[[ -f "$SPARK_STATE/conf/hudi-defaults.conf" ]] || printf '# Hudi defaults for local jobs (empty: jobs pass their options)\n' > "$SPARK_STATE/conf/hudi-defaults.conf"

export SPARK_CONF_DIR="$SPARK_STATE/conf"
export HUDI_CONF_DIR="$SPARK_STATE/conf"
export SPARK_LOCAL_DIRS="$SPARK_STATE/local"
export SPARK_LOCAL_IP=127.0.0.1
export PYSPARK_PYTHON="$DANAU_VENV/bin/python"
export PYSPARK_DRIVER_PYTHON="$DANAU_VENV/bin/python"
unset SPARK_HOME   # the venv's pyspark finds its own

# JVM options: local state dirs, UTC (EMR clusters run in UTC). Java 17 needs nothing for Spark
# itself (spark-submit adds its --add-opens flags), but Hudi's record-size estimator (a shaded JOL)
# wants an agent attached to its own JVM, which Java 9+ refuses unless jdk.attach.allowAttachSelf
# is set, and then probes the HotSpot Serviceability Agent by spawning helper JVMs (slow, and known
# to hang): allow the self-attach, skip the SA probe. JOL still prints one "# WARNING: Unable to
# attach Serviceability Agent ... skipped" line to stdout; it is harmless.
driver_java_opts=(
  "-Djava.io.tmpdir=$SPARK_STATE/tmp"
  "-Dderby.system.home=$SPARK_STATE/tmp"
  "-Duser.timezone=UTC"
  "-Djdk.attach.allowAttachSelf=true"
  "-Djol.skipHotspotSAAttach=true"
)
# Local jobs are small and short: compiling with C1 only skips the C2 warm-up that otherwise fights
# the job for the two cores (the Hudi smoke job: about 30 s instead of 40-45 s). Set
# DANAU_SPARK_FAST_START=false for long CPU-heavy runs such as benchmarks.
[[ "${DANAU_SPARK_FAST_START:-true}" == true ]] && driver_java_opts+=("-XX:TieredStopAtLevel=1")
# Anything else for the driver JVM.
[[ -n "${DANAU_SPARK_JAVA_OPTS:-}" ]] && driver_java_opts+=("$DANAU_SPARK_JAVA_OPTS")

conf=(
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
  read -r -a extra <<<"$DANAU_SPARK_CONF"
  conf+=("${extra[@]}")
fi

args=(--master "local[*]" --name "danau:$(basename "$job" .py)"
  --driver-memory "${DANAU_SPARK_DRIVER_MEMORY:-4g}"
  --jars "$(spark_jars_csv)")
for c in "${conf[@]}"; do args+=(--conf "$c"); done

exec "$SPARK_SUBMIT" "${args[@]}" "$job" "$@"
