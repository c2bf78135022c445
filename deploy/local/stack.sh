#!/usr/bin/env bash
# deploy/local/stack.sh up|down|status
#
# Local dev/CI infrastructure for ctip, no Docker:
#   up     -> postgres.sh start, then kafka.sh start
#   down   -> kafka.sh stop, then postgres.sh stop
#   status -> both; exit 0 if both run, 3 otherwise
# Ports: CTIP_PG_PORT (default 5432), CTIP_KAFKA_PORT (default 9092).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PG="$SCRIPT_DIR/postgres.sh"
KAFKA="$SCRIPT_DIR/kafka.sh"

case "${1:-}" in
  up)
    t0=$SECONDS
    bash "$PG" start
    bash "$KAFKA" start
    echo "[stack] up in $((SECONDS - t0))s:" \
      "postgresql://ctip:ctip@127.0.0.1:${CTIP_PG_PORT:-5432}/ctip (owner; services: ctip_app)," \
      "kafka 127.0.0.1:${CTIP_KAFKA_PORT:-9092}"
    ;;
  down)
    rc=0
    bash "$KAFKA" stop || rc=1
    bash "$PG" stop || rc=1
    exit "$rc"
    ;;
  status)
    rc=0
    bash "$PG" status || rc=3
    bash "$KAFKA" status || rc=3
    exit "$rc"
    ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
