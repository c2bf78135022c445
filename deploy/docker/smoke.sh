#!/usr/bin/env bash
# deploy/docker/smoke.sh [APP_IMAGE]
#
# Starts each local base (deploy/docker/bases.sh) as deploy/compose.yaml runs it and checks it
# live, on a network of its own, publishing no port on the host:
#   postgres  the init scripts ran once (an executable *.sh and a *.sql), a password login over
#             TCP from another container works and a wrong password is refused
#   kafka     KRaft from KAFKA_* variables and CLUSTER_ID, compose's healthcheck command, a
#             produce/consume round trip with the console tools, the consumer group's lag 0
#   nginx     deploy/gateway/nginx.conf read-only with every capability dropped: /healthz with
#             compose's wget, the gateway's own answers, a request proxied through Docker's DNS
#             to a stand-in upstream (prefix stripped) and a 502 when no upstream resolves
#   APP_IMAGE (default ctip:dev, skipped when missing) `--help`, the healthcheck script, and
#             `ctip migrate intake` against the postgres above
# Everything it starts is named ctip-smoke-<pid>-* and removed on exit. Exit 0 when all pass.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOCKER="${DOCKER:-docker}"
APP_IMAGE="${1:-ctip:dev}"
eval "$("$ROOT/deploy/docker/bases.sh" --print)"
RUN_ID="ctip-smoke-$$"
NET="$RUN_ID"
WORK="$(mktemp -d)"
failures=0

log() { echo "[smoke] $*" >&2; }
pass() { log "PASS $*"; }
fail() { log "FAIL $*"; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: PASS or FAIL by COMMAND's exit status
check() {
  local what="$1"
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
d() { "$DOCKER" "$@"; }

cleanup() {
  d ps -aq --filter "name=^$RUN_ID-" | while read -r id; do d rm -f -v "$id" >/dev/null; done
  d volume ls -q --filter "name=^$RUN_ID-" | while read -r v; do d volume rm "$v" >/dev/null; done
  d network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# wait_for SECONDS COMMAND...: until COMMAND succeeds; prints the seconds it took.
wait_for() {
  local limit="$1" started=$SECONDS
  shift
  until "$@" >/dev/null 2>&1; do
    (( SECONDS - started < limit )) || return 1
    sleep 1
  done
  echo $((SECONDS - started))
}

d network create "$NET" >/dev/null

smoke_postgres() {
  local c="$RUN_ID-postgres" took
  # the shape of compose's init script: psql over the socket, a password from the environment
  cat >"$WORK/10-roles.sh" <<'SH'
#!/bin/bash
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v pw="$DB_PASSWORD" <<'SQL'
CREATE ROLE ctip LOGIN PASSWORD :'pw';
ALTER DATABASE ctip OWNER TO ctip;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SQL
SH
  cat >"$WORK/20-marker.sql" <<'SQL'
CREATE TABLE smoke_init (ran_at timestamptz DEFAULT now());
INSERT INTO smoke_init DEFAULT VALUES;
SQL
  chmod 0555 "$WORK/10-roles.sh"
  chmod 0444 "$WORK/20-marker.sql"
  d run -d --name "$c" --network "$NET" --network-alias postgres --shm-size 256m \
    -e POSTGRES_USER=postgres -e POSTGRES_PASSWORD=smoke-superuser -e POSTGRES_DB=ctip \
    -e DB_PASSWORD=smoke-owner \
    -v "$WORK/10-roles.sh:/docker-entrypoint-initdb.d/10-roles.sh:ro" \
    -v "$WORK/20-marker.sql:/docker-entrypoint-initdb.d/20-marker.sql:ro" \
    -v "$RUN_ID-pgdata:/var/lib/postgresql/data" "$CTIP_POSTGRES_IMAGE" >/dev/null
  if took="$(wait_for 60 d exec "$c" pg_isready -h 127.0.0.1 -p 5432 -U postgres -d ctip)"; then
    pass "postgres: pg_isready over TCP after ${took}s"
  else
    fail "postgres: not ready"; d logs "$c" >&2; return
  fi
  psql_as() {
    d run --rm --network "$NET" -e "PGPASSWORD=$2" --entrypoint psql "$CTIP_POSTGRES_IMAGE" \
      "host=postgres user=$1 dbname=ctip" -Atc "$3"
  }
  login() { [ "$(psql_as ctip smoke-owner 'select current_user')" = ctip ]; }
  refused() { ! psql_as ctip wrong 'select 1' >/dev/null 2>&1; }
  ran_once() {
    [ "$(psql_as postgres smoke-superuser 'select count(*) from smoke_init')" = 1 ] \
      && [ "$(d logs "$c" 2>&1 | grep -c 'running /docker-entrypoint-initdb.d')" = 2 ]
  }
  check "postgres: password login over TCP as the role the init script made" login
  check "postgres: a wrong password is refused" refused
  d restart "$c" >/dev/null
  wait_for 60 d exec "$c" pg_isready -h 127.0.0.1 -U postgres >/dev/null || true
  check "postgres: the .sh and .sql init scripts ran once, not again on a restart" ran_once
}

smoke_kafka() {
  local c="$RUN_ID-kafka" took k
  d run -d --name "$c" --network "$NET" --network-alias kafka \
    -e CLUSTER_ID=Jh3dgwFjSVGwreTd0YQXdA -e KAFKA_NODE_ID=1 \
    -e KAFKA_PROCESS_ROLES=broker,controller \
    -e KAFKA_LISTENERS=PLAINTEXT://:9092,CONTROLLER://:9093 \
    -e KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://kafka:9092 \
    -e KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT \
    -e KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER -e KAFKA_INTER_BROKER_LISTENER_NAME=PLAINTEXT \
    -e KAFKA_CONTROLLER_QUORUM_VOTERS=1@kafka:9093 -e KAFKA_LOG_DIRS=/var/lib/kafka/data \
    -e KAFKA_NUM_PARTITIONS=3 -e KAFKA_AUTO_CREATE_TOPICS_ENABLE=true \
    -e KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1 -e KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=1 \
    -e KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1 -e KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0 \
    -e KAFKA_LOG_RETENTION_HOURS=168 \
    -v "$RUN_ID-kafkadata:/var/lib/kafka/data" "$CTIP_KAFKA_IMAGE" >/dev/null
  # compose's healthcheck, word for word
  if took="$(wait_for 90 d exec "$c" sh -c '/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server kafka:9092 > /dev/null 2>&1')"; then
    pass "kafka: compose's healthcheck passes after ${took}s"
  else
    fail "kafka: not healthy"; d logs "$c" >&2; return
  fi
  k=(d exec -i "$c")
  check "kafka: server.properties from the KAFKA_* variables" \
    "${k[@]}" grep -qx num.partitions=3 /opt/kafka/config/server.properties
  printf 'k1:hello\nk2:xin chao\nk3:world\n' \
    | "${k[@]}" kafka-console-producer.sh --bootstrap-server kafka:9092 --topic smoke.roundtrip \
      --reader-property parse.key=true --reader-property key.separator=: >/dev/null 2>&1
  local got
  got="$("${k[@]}" kafka-console-consumer.sh --bootstrap-server kafka:9092 --topic smoke.roundtrip \
    --group smoke --from-beginning --max-messages 3 --timeout-ms 30000 2>/dev/null | sort | tr '\n' ,)"
  check "kafka: 3 records produced and consumed back (auto-created topic; got '$got')" \
    [ "$got" = "hello,world,xin chao," ]
  no_lag() {
    "${k[@]}" kafka-consumer-groups.sh --bootstrap-server kafka:9092 --describe --group smoke \
      2>/dev/null | awk '$1 == "smoke" { n++; if ($6 != 0) bad = 1 } END { exit bad || !n }'
  }
  check "kafka: the group's lag is 0" no_lag
}

smoke_nginx() {
  local c="$RUN_ID-gateway" up="$RUN_ID-upstream"
  d run -d --name "$c" --network "$NET" --read-only --tmpfs /tmp --cap-drop ALL \
    --security-opt no-new-privileges:true \
    -v "$ROOT/deploy/gateway/nginx.conf:/etc/nginx/nginx.conf:ro" "$CTIP_NGINX_IMAGE" >/dev/null
  if wait_for 20 d exec "$c" wget -q -O /dev/null http://127.0.0.1:8080/healthz >/dev/null; then
    pass "nginx: the gateway config runs read-only, unprivileged; compose's healthcheck passes"
  else
    fail "nginx: not healthy"; d logs "$c" >&2; return
  fi
  config() {
    [[ "$(d exec "$c" wget -q -O - http://127.0.0.1:8080/dashboard/config.json)" == *'"intake":"/intake"'* ]]
  }
  bad_gateway() {
    local answer
    answer="$(d exec "$c" wget -S -O /dev/null http://127.0.0.1:8080/intake/v1/tips 2>&1 || true)"
    [[ "$answer" == *" 502 "* ]]
  }
  proxied() {
    [ "$(d exec "$c" wget -q -O - http://127.0.0.1:8080/intake/v1/tips 2>/dev/null)" = upstream-ok ]
  }
  check "nginx: /dashboard/config.json answered by the gateway" config
  check "nginx: 502 while intake-api does not resolve (it starts without its upstreams)" bad_gateway
  d run -d --name "$up" --network "$NET" --network-alias intake-api --entrypoint sh \
    "$CTIP_PYTHON_IMAGE" -c 'mkdir -p /srv/v1 && echo upstream-ok >/srv/v1/tips && cd /srv && exec python -m http.server 8001' >/dev/null
  wait_for 20 d exec "$c" wget -q -O /dev/null http://127.0.0.1:8080/intake/v1/tips >/dev/null || true
  check "nginx: /intake/v1/tips proxied to intake-api:8001/v1/tips through Docker's DNS" proxied
}

smoke_app() {
  if ! d image inspect "$APP_IMAGE" >/dev/null 2>&1; then
    log "SKIP the app: no image $APP_IMAGE"
    return
  fi
  app_help() { [[ "$(d run --rm "$APP_IMAGE" --help)" == *" serve "* ]]; }
  migrate() {
    d run --rm --network "$NET" --read-only --tmpfs /tmp --cap-drop ALL \
      -e CTIP_ENVIRONMENT=development \
      -e CTIP_DATABASE_URL=postgresql+asyncpg://ctip:smoke-owner@postgres:5432/ctip \
      -e CTIP_MIGRATION_DATABASE_URL=postgresql+asyncpg://ctip:smoke-owner@postgres:5432/ctip \
      "$APP_IMAGE" migrate intake >"$WORK/migrate.log" 2>&1 || { tail -20 "$WORK/migrate.log" >&2; false; }
  }
  check "app: $APP_IMAGE --help" app_help
  check "app: the HEALTHCHECK script runs" d run --rm --entrypoint python "$APP_IMAGE" /app/healthcheck.py
  check "app: ctip migrate intake against the postgres base, read-only, as uid 10001" migrate
}

smoke_postgres
smoke_kafka
smoke_nginx
smoke_app
if [ "$failures" = 0 ]; then
  log "all passed"
else
  log "$failures failed"
  exit 1
fi
