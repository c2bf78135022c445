#!/usr/bin/env bash
# `make run`: the local stack, migrations, the six services and demo data; Ctrl-C stops it all.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
UV="${UV:-uv}"
LOGS="$ROOT/.run/logs"
mkdir -p "$LOGS"

# Two database roles, as deployed (deploy/local/postgres.sh makes both): migrations run as the
# schemas' owner, the services as the runtime role `ctip migrate` grants (INSERT and SELECT
# alone on the audit log). CTIP_PG_PORT and CTIP_KAFKA_PORT alone move everything (the stack,
# the migrations, the services, the demo data): the settings' defaults follow them too; these
# exports only make the banner below say what is really used.
PG="127.0.0.1:${CTIP_PG_PORT:-5432}"
export CTIP_MIGRATION_DATABASE_URL="${CTIP_MIGRATION_DATABASE_URL:-postgresql+asyncpg://ctip:ctip@$PG/ctip}"
export CTIP_DATABASE_URL="${CTIP_DATABASE_URL:-postgresql+asyncpg://ctip_app:ctip_app@$PG/ctip}"
export CTIP_KAFKA_BOOTSTRAP="${CTIP_KAFKA_BOOTSTRAP:-127.0.0.1:${CTIP_KAFKA_PORT:-9092}}"

SERVICES=(intake:8001 casework:8002 victim_support:8003 interagency:8004 outreach:8005 notifications:8006)
pids=()

# Ctrl-C (or TERM) stops everything and exits 0; the script never goes on to the lines after
# `wait -n` below, which speak of a service that exited by itself.
stop_all() {
  local status="$1"
  trap - INT TERM EXIT
  echo
  echo "stopping services..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopping the local stack..."
  "$ROOT/deploy/local/stack.sh" down || true
  exit "$status"
}
trap 'stop_all 0' INT TERM
trap 'stop_all $?' EXIT

echo "migrating every service schema..."
$UV run ctip migrate

for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"; port="${entry##*:}"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: is another '$name' running? (stop it and retry)" >&2
    exit 1
  fi
  $UV run uvicorn "services.${name}.app:create_app" --factory \
    --host 127.0.0.1 --port "$port" --no-access-log >"$LOGS/$name.log" 2>&1 &
  pids+=($!)
done

for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"; port="${entry##*:}"
  for _ in $(seq 1 120); do
    if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  if ! curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    echo "$name did not become ready; last log lines:" >&2
    tail -20 "$LOGS/$name.log" >&2
    exit 1
  fi
done

echo "loading demo data (synthetic; safe to run again)..."
$UV run python deploy/local/demo_data.py || echo "demo data incomplete (see above); the services keep running" >&2

cat <<TXT

ctip is running (logs in .run/logs/):
  intake          http://127.0.0.1:8001/docs
  casework        http://127.0.0.1:8002/docs
  victim_support  http://127.0.0.1:8003/docs
  interagency     http://127.0.0.1:8004/docs
  outreach        http://127.0.0.1:8005/docs
  notifications   http://127.0.0.1:8006/docs
  PostgreSQL      ${CTIP_DATABASE_URL/+asyncpg/}  (services; owner: ctip)
  Kafka           $CTIP_KAFKA_BOOTSTRAP

A token:  $UV run ctip token --role intake_officer --jurisdiction 01
The audit chains:  $UV run ctip audit verify
Press Ctrl-C to stop everything.
TXT
wait -n "${pids[@]}" || true
echo "a service exited by itself; see .run/logs/" >&2
exit 1
