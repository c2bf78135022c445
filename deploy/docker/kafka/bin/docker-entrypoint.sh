#!/usr/bin/env bash
# The entrypoint of ctip-local/kafka: configured as the apache/kafka image is.
#
# Every environment variable KAFKA_<NAME> becomes a line of server.properties: <NAME> lower-cased,
# "_" read as ".", "__" as "_" and "___" as "-" (KAFKA_LOG_DIRS -> log.dirs). The JVM's own
# variables (KAFKA_HEAP_OPTS, KAFKA_OPTS, ...) are not properties. Without any KAFKA_ property,
# a single node on localhost:9092 (controller :9093). On the first start (no meta.properties in a
# log directory) the storage is formatted with CLUSTER_ID (one is generated and printed when it
# is not set). With arguments, the container runs them instead (a tool of /opt/kafka/bin).
set -euo pipefail

CONFIG=/opt/kafka/config/server.properties
JVM_VARIABLES=" KAFKA_HEAP_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_OPTS KAFKA_LOG4J_OPTS KAFKA_GC_LOG_OPTS KAFKA_JMX_OPTS KAFKA_DEBUG KAFKA_VERSION KAFKA_HOME "

log() { echo "docker-entrypoint: $*" >&2; }

if [ $# -gt 0 ]; then
  exec "$@"
fi

property_name() {
  local name="${1#KAFKA_}"
  name="${name,,}"
  name="${name//___/-}"
  name="${name//__/@}"
  name="${name//_/.}"
  echo "${name//@/_}"
}

write_config() {
  local variable value found=0
  : >"$CONFIG.tmp"
  for variable in $(compgen -e | LC_ALL=C sort); do
    [[ "$variable" == KAFKA_* && "$JVM_VARIABLES" != *" $variable "* ]] || continue
    value="${!variable}"
    printf '%s=%s\n' "$(property_name "$variable")" "${value//\\/\\\\}" >>"$CONFIG.tmp"
    found=1
  done
  if [ "$found" = 0 ]; then
    log "no KAFKA_ variables: a single node on localhost:9092"
    printf '%s\n' \
      process.roles=broker,controller \
      node.id=1 \
      controller.quorum.voters=1@localhost:9093 \
      listeners=PLAINTEXT://:9092,CONTROLLER://:9093 \
      advertised.listeners=PLAINTEXT://localhost:9092 \
      controller.listener.names=CONTROLLER \
      listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT \
      log.dirs=/var/lib/kafka/data \
      offsets.topic.replication.factor=1 \
      transaction.state.log.replication.factor=1 \
      transaction.state.log.min.isr=1 \
      share.coordinator.state.topic.replication.factor=1 \
      share.coordinator.state.topic.min.isr=1 >"$CONFIG.tmp"
  fi
  mv "$CONFIG.tmp" "$CONFIG"
}

property() {
  sed -n "s/^$1=//p" "$CONFIG" | tail -n 1
}

format_storage() {
  local dirs dir unformatted=0
  dirs="$(property log.dirs)"
  dirs="${dirs:-$(property log.dir)}"
  dirs="${dirs:-/tmp/kafka-logs},$(property metadata.log.dir)"
  IFS=',' read -r -a dirs <<<"$dirs"
  for dir in "${dirs[@]}"; do
    if [ -n "$dir" ] && [ ! -f "$dir/meta.properties" ]; then
      unformatted=1
    fi
  done
  [ "$unformatted" = 1 ] || return 0
  if [ -z "${CLUSTER_ID:-}" ]; then
    CLUSTER_ID="$(kafka-storage.sh random-uuid)"
    log "CLUSTER_ID is not set: formatting with a new one, $CLUSTER_ID"
  fi
  log "formatting the storage of cluster $CLUSTER_ID"
  kafka-storage.sh format --cluster-id "$CLUSTER_ID" --config "$CONFIG" --ignore-formatted
}

write_config
format_storage
exec kafka-server-start.sh "$CONFIG"
