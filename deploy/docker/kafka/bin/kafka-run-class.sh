#!/usr/bin/env bash
# kafka-run-class.sh CLASS [ARGS...]: run a class of /opt/kafka/libs on the image's Java.
# Called through a link named kafka-<tool>.sh, it runs that tool (the names of Kafka's own bin/).
#
# The broker (kafka-server-start.sh) logs to stdout at INFO and takes KAFKA_HEAP_OPTS
# (default -Xms256m -Xmx1g); the tools log warnings to stderr and start a small, quick JVM.
# KAFKA_OPTS is added to both.
set -euo pipefail

KAFKA_HOME=/opt/kafka
case "$(basename "$0")" in
  kafka-broker-api-versions.sh) set -- org.apache.kafka.tools.BrokerApiVersionsCommand "$@" ;;
  kafka-console-consumer.sh) set -- org.apache.kafka.tools.consumer.ConsoleConsumer "$@" ;;
  kafka-console-producer.sh) set -- org.apache.kafka.tools.ConsoleProducer "$@" ;;
  kafka-consumer-groups.sh) set -- org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
  kafka-metadata-quorum.sh) set -- org.apache.kafka.tools.MetadataQuorumCommand "$@" ;;
  kafka-server-start.sh) set -- kafka.Kafka "$@" ;;
  kafka-storage.sh) set -- kafka.tools.StorageTool "$@" ;;
  kafka-topics.sh) set -- org.apache.kafka.tools.TopicCommand "$@" ;;
  kafka-run-class.sh) ;;
  *) echo "$(basename "$0"): not a tool of this image" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { echo "usage: kafka-run-class.sh CLASS [ARGS...]" >&2; exit 2; }

if [ "$1" = kafka.Kafka ]; then
  # shellcheck disable=SC2206  # word lists, as in Kafka's own scripts
  jvm=(${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}
    ${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent}
    "-Dlog4j2.configurationFile=$KAFKA_HOME/etc/log4j2.xml")
else
  jvm=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
    "-Dlog4j2.configurationFile=$KAFKA_HOME/etc/tools-log4j2.xml")
fi
# shellcheck disable=SC2206
extra=(${KAFKA_OPTS:-})

exec java "${jvm[@]}" -Djava.awt.headless=true "${extra[@]}" -cp "$KAFKA_HOME/libs/*" "$@"
