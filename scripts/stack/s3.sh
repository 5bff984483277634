#!/usr/bin/env bash
# Local S3-compatible object store: Adobe S3Mock (Maven Central com.adobe.testing:s3mock, exec jar),
# chosen because it accepts AND reports the STANDARD_IA storage class (PutObject, multipart,
# CopyObject) and keeps its objects on disk across restarts. See docs/design/object-store.md.
#
#   scripts/stack/s3.sh install   fetch the pinned jar into $DANAU_HOME/s3/ (idempotent)
#   scripts/stack/s3.sh start     install if needed, start on $DANAU_S3_ENDPOINT, create the buckets
#   scripts/stack/s3.sh stop      stop the server this script started
#   scripts/stack/s3.sh status    one status line; exit 0 when healthy, 1 when not
#
# State: $DANAU_HOME/s3/data (buckets and objects, kept across restarts), log: $DANAU_HOME/logs/s3.log.
source "$(dirname "$0")/lib.sh"

S3MOCK_VERSION=5.2.0
S3MOCK_SHA256=dd7c192fef0005374dec507317ae946eaa5beeffeb4e901d8b97f7fd2ddfb741
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

S3_DIR="$DANAU_HOME/s3"
S3_DATA="$S3_DIR/data"
S3_JAR="$S3_DIR/s3mock-$S3MOCK_VERSION-exec.jar"
S3_LOG="$DANAU_HOME/logs/s3.log"

# host and port from DANAU_S3_ENDPOINT (http://HOST:PORT)
S3_HOSTPORT="${DANAU_S3_ENDPOINT#*://}"
S3_HOSTPORT="${S3_HOSTPORT%%/*}"
S3_HOST="${S3_HOSTPORT%:*}"
S3_PORT="${S3_HOSTPORT##*:}"
[[ "$S3_HOST" != "$S3_PORT" && -n "$S3_PORT" ]] || die "DANAU_S3_ENDPOINT must look like http://HOST:PORT (got $DANAU_S3_ENDPOINT)"
[[ "$DANAU_S3_ENDPOINT" == http://* ]] || die "the local S3 server speaks plain http; DANAU_S3_ENDPOINT=$DANAU_S3_ENDPOINT"

BUCKETS=("$DANAU_RAW_BUCKET" "$DANAU_PROCESSED_BUCKET" "$DANAU_ARCHIVE_BUCKET")

# curl with AWS SigV4, the same credentials every client uses (S3Mock does not check them, AWS does).
s3_curl() {
  curl -sS --max-time 15 --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@"
}

is_installed() { [[ -f "$S3_JAR" && -f "$S3_JAR.verified" ]]; }

cmd_install() {
  is_installed && return 0
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  mkdir -p "$S3_DIR"
  log "fetching S3Mock $S3MOCK_VERSION (com.adobe.testing:s3mock:$S3MOCK_VERSION:jar:exec) with Maven"
  local tmp; tmp="$(mktemp -d "$S3_DIR/.fetch.XXXXXX")"
  if ! mvn -B -q -ntp "$MAVEN_DEPENDENCY_PLUGIN:copy" \
      -Dartifact="com.adobe.testing:s3mock:$S3MOCK_VERSION:jar:exec" \
      -DoutputDirectory="$tmp" </dev/null >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"
    die "could not fetch S3Mock $S3MOCK_VERSION with Maven"
  fi
  local got; got="$(sha256sum "$tmp/s3mock-$S3MOCK_VERSION-exec.jar" | cut -d' ' -f1)"
  if [[ "$got" != "$S3MOCK_SHA256" ]]; then
    rm -rf "$tmp" "$tmp.log"
    die "S3Mock jar checksum mismatch: got $got, want $S3MOCK_SHA256"
  fi
  mv "$tmp/s3mock-$S3MOCK_VERSION-exec.jar" "$S3_JAR"
  echo "$S3MOCK_SHA256" > "$S3_JAR.verified"
  rm -rf "$tmp" "$tmp.log"
  log "installed S3Mock $S3MOCK_VERSION at $S3_JAR"
}

port_open() { (exec 3<>"/dev/tcp/$S3_HOST/$S3_PORT") 2>/dev/null; }

# HTTP status of an S3 request (000 when the server does not answer)
http_code() { s3_curl -o /dev/null -w '%{http_code}' "$@" 2>/dev/null || true; }

ensure_bucket() {
  local bucket="$1" code
  code="$(http_code -I "$DANAU_S3_ENDPOINT/$bucket")"
  [[ "$code" == 200 ]] && return 0
  code="$(http_code -X PUT "$DANAU_S3_ENDPOINT/$bucket")"
  case "$code" in
    200|409) log "bucket $bucket ready" ;;  # 409: BucketAlreadyOwnedByYou (a concurrent start)
    *) die "could not create bucket $bucket (HTTP $code, see $S3_LOG)" ;;
  esac
}

cmd_start() {
  if is_running s3; then
    # already ours and running: just make sure the buckets are there (fast path, no JVM work)
    if [[ "$(http_code "$DANAU_S3_ENDPOINT/")" == 200 ]]; then
      local b; for b in "${BUCKETS[@]}"; do ensure_bucket "$b"; done
      return 0
    fi
  fi
  if ! is_running s3 && port_open; then
    die "$S3_HOST:$S3_PORT is already taken by a process this script did not start; stop it or change DANAU_S3_ENDPOINT"
  fi
  cmd_install
  mkdir -p "$S3_DATA" "$S3_DIR/tmp"
  if ! is_running s3; then
    rm -rf "$S3_DIR/tmp"/tomcat*  # Tomcat's scratch dirs from earlier runs (not object data)
    log "starting S3Mock $S3MOCK_VERSION on $S3_HOST:$S3_PORT (data in $S3_DATA)"
    # retain-files-on-exit=true is essential: without it S3Mock deletes its root folder on shutdown.
    # The main connector is plain http on HOST:PORT. S3Mock always adds a second plain-http
    # connector (http.port); port 0 puts it on a random free port so it never collides.
    # C1-only JIT and the serial GC halve start-up time and memory on this 2-core machine.
    start_daemon s3 "$S3_LOG" java \
      -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -Xms64m -Xmx768m \
      -Djava.io.tmpdir="$S3_DIR/tmp" \
      -jar "$S3_JAR" \
      --server.address="$S3_HOST" --server.port="$S3_PORT" --server.ssl.enabled=false \
      --http.port=0 \
      --com.adobe.testing.s3mock.store.root="$S3_DATA" \
      --com.adobe.testing.s3mock.store.retain-files-on-exit=true \
      --com.adobe.testing.s3mock.store.region="$AWS_REGION" \
      --spring.main.banner-mode=off
  fi
  wait_for_port "$S3_HOST" "$S3_PORT" 120 s3
  # the port opens before the lazily initialised controllers answer: wait for ListBuckets
  local code=000
  for _ in $(seq 1 60); do
    code="$(http_code "$DANAU_S3_ENDPOINT/")"
    [[ "$code" == 200 ]] && break
    is_running s3 || die "S3Mock exited during start-up (see $S3_LOG)"
    sleep 0.5
  done
  [[ "$code" == 200 ]] || die "S3Mock on $S3_HOST:$S3_PORT does not answer ListBuckets (HTTP $code, see $S3_LOG)"
  local b; for b in "${BUCKETS[@]}"; do ensure_bucket "$b"; done
  log "s3 up on $DANAU_S3_ENDPOINT (pid $(read_pid s3))"
}

cmd_stop() {
  if is_running s3; then log "stopping s3 (pid $(read_pid s3))"; fi
  stop_daemon s3
}

cmd_status() {
  if ! is_running s3; then
    if port_open; then
      status_line s3 "$S3_HOSTPORT" no "port taken by a process this script did not start"
    else
      status_line s3 "$S3_HOSTPORT" no "not running"
    fi
    return 1
  fi
  local pid listing missing=() b
  pid="$(read_pid s3)"
  if ! listing="$(s3_curl -f "$DANAU_S3_ENDPOINT/" 2>/dev/null)"; then
    status_line s3 "$S3_HOSTPORT" no "pid $pid, ListBuckets fails (starting up? see $S3_LOG)"
    return 1
  fi
  for b in "${BUCKETS[@]}"; do
    [[ "$listing" == *"<Name>$b</Name>"* ]] || missing+=("$b")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    status_line s3 "$S3_HOSTPORT" no "S3Mock $S3MOCK_VERSION pid $pid, missing bucket(s): ${missing[*]}"
    return 1
  fi
  status_line s3 "$S3_HOSTPORT" yes "S3Mock $S3MOCK_VERSION pid $pid, buckets: ${BUCKETS[*]}"
}

dispatch "$@"
