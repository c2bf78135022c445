#!/usr/bin/env bash
# deploy/local/kafka.sh start|stop|status|restart
#
# Runs a real single-node Apache Kafka broker (KRaft, combined broker+controller
# mode) for local development and CI, without Docker.
#
# The broker is assembled from Apache's official Maven Central artifact
# org.apache.kafka:kafka_2.13 (version in deploy/local/kafka/pom.xml) with
# `mvn dependency:copy-dependencies`, cached in <repo>/.run/kafka/libs and keyed
# on the pom's sha256, so only the first start downloads anything.
#
# Layout (everything under the git-ignored <repo>/.run/kafka/):
#   libs/               broker jars (+ .pom.sha256 stamp)
#   server.properties   generated on every start
#   cluster.id          KRaft cluster id, generated once, reused forever
#   data/               log.dirs (topics + KRaft metadata log)
#   logs/server.log     broker log (WARN+, see deploy/local/kafka/log4j2.xml)
#   logs/kafka.out      JVM stdout/stderr
#   kafka.pid           pid of the running broker
#
# Environment:
#   CTIP_KAFKA_PORT             PLAINTEXT listener port (default 9092)
#   CTIP_KAFKA_CONTROLLER_PORT  KRaft controller port   (default CTIP_KAFKA_PORT+1)
#   CTIP_KAFKA_HEAP_OPTS        JVM heap                (default "-Xms256m -Xmx512m")
#   CTIP_KAFKA_START_TIMEOUT    readiness timeout, s    (default 60)
#
# Exit codes: status -> 0 running, 3 stopped. start/stop -> 0 ok, 1 error.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CONF_DIR="$SCRIPT_DIR/kafka"
POM="$CONF_DIR/pom.xml"
LOG4J_CONF="$CONF_DIR/log4j2.xml"

RUN_DIR="$REPO_ROOT/.run/kafka"
LIBS_DIR="$RUN_DIR/libs"
DATA_DIR="$RUN_DIR/data"
LOG_DIR="$RUN_DIR/logs"
PROPS="$RUN_DIR/server.properties"
CLUSTER_ID_FILE="$RUN_DIR/cluster.id"
PID_FILE="$RUN_DIR/kafka.pid"
STAMP_FILE="$LIBS_DIR/.pom.sha256"

PORT="${CTIP_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${CTIP_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
HEAP_OPTS="${CTIP_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
START_TIMEOUT="${CTIP_KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT=20

log() { echo "[kafka] $*"; }
err() { echo "[kafka] ERROR: $*" >&2; }
die() { err "$*"; exit 1; }

# ---------------------------------------------------------------- prerequisites
require_java() {
  command -v java >/dev/null 2>&1 \
    || die "'java' not found on PATH. Kafka 4.x needs a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless)."
  local v
  v="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  local major="${v%%.*}"
  [[ "$major" == "1" ]] && major="$(echo "$v" | cut -d. -f2)"
  if [[ "$major" =~ ^[0-9]+$ ]] && (( major < 17 )); then
    die "java $v found, but the Kafka broker needs Java 17+."
  fi
}

require_mvn() {
  command -v mvn >/dev/null 2>&1 \
    || die "'mvn' not found on PATH; it is needed once to download the Kafka jars from Maven Central (Debian: apt-get install -y maven)."
}

pom_hash() { sha256sum "$POM" | awk '{print $1}'; }

ensure_libs() {
  local want
  want="$(pom_hash)"
  if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$want" ]] && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null; then
    return 0
  fi
  require_mvn
  log "Downloading Kafka jars from Maven Central (pom: ${POM#"$REPO_ROOT"/}) ..."
  local tmp="$RUN_DIR/libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$RUN_DIR/mvn.log" 2>&1; then
    tail -n 30 "$RUN_DIR/mvn.log" >&2 || true
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (full output: $RUN_DIR/mvn.log)."
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "mvn succeeded but no kafka_2.13 jar was copied."; }
  echo "$want" >"$tmp/.pom.sha256"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  local jar
  for jar in "$LIBS_DIR"/kafka_2.13-*.jar; do log "Kafka jars ready: ${jar##*/}"; done
}

# ---------------------------------------------------------------- process helpers
# Is pid $1 alive? (A zombie counts as dead: on some sandboxes/containers PID 1
# reaps orphans lazily, so `kill -0` keeps succeeding after the process died.)
pid_alive() {
  local st
  st="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [[ -n "$st" && "$st" != "Z" && "$st" != "X" ]]
}

# Is $1 a live broker process started from *this* checkout?
is_our_broker() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  pid_alive "$pid" || return 1
  local cmd
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *"kafka.Kafka"* && "$cmd" == *"$PROPS"* ]]
}

# Prints the pid of the running broker (from the pid file), or returns 1.
running_pid() {
  local pid=""
  [[ -f "$PID_FILE" ]] && pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && is_our_broker "$pid"; then
    echo "$pid"
    return 0
  fi
  # Fallback: pid file lost but a broker of this checkout is running.
  local p
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    if is_our_broker "$p"; then
      echo "$p" >"$PID_FILE"
      echo "$p"
      return 0
    fi
  done
  return 1
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1
}

# Real Kafka protocol round trip over bash's /dev/tcp: a Metadata v1 request
# (api_key 3, all topics). The broker only answers once request processing is
# enabled, and only lists itself once it is registered and unfenced, so a reply
# with >= 1 broker means producers/consumers/admin clients can connect.
kafka_ready() {
  local hex
  hex="$(timeout 5 bash -c '
      exec 3<>/dev/tcp/127.0.0.1/'"$PORT"' || exit 1
      # size=18 | api_key=3 api_version=1 correlation_id=42 client_id="ctip" | topics=-1 (null: all)
      printf "\x00\x00\x00\x12\x00\x03\x00\x01\x00\x00\x00\x2a\x00\x04ctip\xff\xff\xff\xff" >&3
      head -c 12 <&3 | od -An -v -tx1
    ' 2>/dev/null)" || return 1
  hex="$(echo "$hex" | tr -d ' \n')"
  # response: size(4) correlation_id(4) brokers_count(4)
  [[ "${hex:8:8}" == "0000002a" ]] || return 1
  (( 16#${hex:16:8} >= 1 && 16#${hex:16:8} < 1000 ))
}

# ---------------------------------------------------------------- config
write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  cat >"$PROPS.tmp" <<EOF
# Generated by deploy/local/kafka.sh on every start -- do not edit, edit the script.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${DATA_DIR}
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a kill -9 the controller keeps the old broker registration until its session
# times out (default 9 s) and rejects the restarted broker until then; keep it short.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
log.retention.hours=168
log.segment.bytes=104857600
EOF
  mv "$PROPS.tmp" "$PROPS"
}

classpath() { echo "$LIBS_DIR/*"; }

ensure_formatted() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    # Already formatted: keep cluster.id in sync with what is on disk.
    if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
      sed -n 's/^cluster.id=//p' "$DATA_DIR/meta.properties" >"$CLUSTER_ID_FILE"
    fi
    return 0
  fi
  if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
    java -cp "$(classpath)" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$CLUSTER_ID_FILE.tmp"
    [[ -s "$CLUSTER_ID_FILE.tmp" ]] || die "could not generate a cluster id with kafka.tools.StorageTool"
    mv "$CLUSTER_ID_FILE.tmp" "$CLUSTER_ID_FILE"
  fi
  local cid
  cid="$(cat "$CLUSTER_ID_FILE")"
  log "Formatting KRaft storage in ${DATA_DIR#"$REPO_ROOT"/} (cluster id $cid)"
  if ! java -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$LOG_DIR" \
        -cp "$(classpath)" kafka.tools.StorageTool format \
        -t "$cid" -c "$PROPS" --ignore-formatted >"$LOG_DIR/format.out" 2>&1; then
    cat "$LOG_DIR/format.out" >&2
    die "kafka storage format failed"
  fi
}

# ---------------------------------------------------------------- commands
print_log_tail() {
  echo "----- last lines of $LOG_DIR/kafka.out -----" >&2
  tail -n 30 "$LOG_DIR/kafka.out" >&2 2>/dev/null || true
  echo "----- last lines of $LOG_DIR/server.log -----" >&2
  tail -n 40 "$LOG_DIR/server.log" >&2 2>/dev/null || true
}

wait_ready() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if ! pid_alive "$pid"; then
      print_log_tail
      rm -f "$PID_FILE"
      die "broker process $pid exited during startup"
    fi
    if kafka_ready; then
      return 0
    fi
    sleep 0.5
  done
  print_log_tail
  die "broker (pid $pid) not ready on 127.0.0.1:$PORT after ${START_TIMEOUT}s (still running; '$0 stop' to kill it)"
}

cmd_start() {
  local t0=$SECONDS pid
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if pid="$(running_pid)"; then
    if kafka_ready; then
      log "already running (pid $pid) on 127.0.0.1:$PORT"
      return 0
    fi
    log "process $pid is up but not answering yet; waiting ..."
    wait_ready "$pid"
    log "ready (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  rm -f "$PID_FILE"

  require_java
  ensure_libs

  local p
  for p in "$PORT" "$CONTROLLER_PORT"; do
    if port_in_use "$p"; then
      die "port 127.0.0.1:$p is already in use by another process (not this checkout's broker). Stop it or set CTIP_KAFKA_PORT / CTIP_KAFKA_CONTROLLER_PORT."
    fi
  done

  write_config
  ensure_formatted

  log "starting broker on 127.0.0.1:$PORT (controller :$CONTROLLER_PORT), data in ${DATA_DIR#"$REPO_ROOT"/}"
  local heap
  read -r -a heap <<<"$HEAP_OPTS"
  JAVA_CMD=(java "${heap[@]}"
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$LOG_DIR"
    -cp "$(classpath)" kafka.Kafka "$PROPS")
  # New session (setsid) so the broker survives the calling shell / CI step;
  # the inner shell writes its own pid and then exec's java (same pid).
  # No subshell around it: a lingering parent would keep the caller's stdout open.
  cd "$RUN_DIR"
  # shellcheck disable=SC2016  # $$ / $0 / $@ are meant for the inner shell
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" "${JAVA_CMD[@]}" \
      >>"$LOG_DIR/kafka.out" 2>&1 </dev/null &
  cd - >/dev/null
  local _
  for _ in $(seq 1 50); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || { print_log_tail; die "broker did not start (no pid file)"; }
  wait_ready "$pid"
  log "ready (pid $pid) on 127.0.0.1:$PORT after $((SECONDS - t0))s"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping broker (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while pid_alive "$pid" && (( SECONDS < deadline )); do
    sleep 0.5
  done
  if pid_alive "$pid"; then
    log "still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if kafka_ready; then
      log "running (pid $pid) on 127.0.0.1:$PORT"
    else
      log "running (pid $pid) but not answering on 127.0.0.1:$PORT (starting up?)"
    fi
    return 0
  fi
  log "stopped"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart) cmd_stop; cmd_start ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
