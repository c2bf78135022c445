#!/usr/bin/env bash
# The entrypoint of ctip-local/postgres: the part of the official postgres image's contract that
# deploy/compose.yaml uses, on Debian's PostgreSQL.
#
# On the first start (no PG_VERSION in PGDATA): initdb as POSTGRES_USER with POSTGRES_PASSWORD,
# scram-sha-256 for every TCP connection (POSTGRES_HOST_AUTH_METHOD to change it), trust on the
# local socket; a server on the socket only creates POSTGRES_DB and runs
# /docker-entrypoint-initdb.d/* in name order (*.sh executed, or sourced when not executable;
# *.sql and *.sql.gz through psql), then stops. Every start then runs `postgres` in the
# foreground as PID 1. Started as root (`--user 0`), it takes PGDATA and drops to postgres.
set -Eeuo pipefail

log() { echo "docker-entrypoint: $*" >&2; }

# VAR or VAR_FILE (a secret mounted as a file), not both.
file_env() {
  local var="$1" default="${2:-}" file_var="${1}_FILE"
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    log "both $var and $file_var are set; set one"
    exit 1
  fi
  local value="$default"
  if [ -n "${!var:-}" ]; then
    value="${!var}"
  elif [ -n "${!file_var:-}" ]; then
    value="$(<"${!file_var}")"
  fi
  export "$var"="$value"
  unset "$file_var"
}

psql_init() {
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" "$@"
}

initialize() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  export POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    log "POSTGRES_PASSWORD is empty: set it (or POSTGRES_PASSWORD_FILE)"
    exit 1
  fi

  local pwfile
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" ${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  printf '\n# every other TCP client (the containers of the stack)\nhost all all all %s\n' \
    "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

  # The socket only: a healthcheck over TCP does not pass before the init scripts are done.
  pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses='' -p 5432" --wait --silent start

  if [ "$POSTGRES_DB" != postgres ]; then
    printf 'CREATE DATABASE :"db";\n' | psql_init --dbname postgres --set db="$POSTGRES_DB"
  fi

  local f
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then
          log "running $f"
          "$f"
        else
          log "sourcing $f"
          # shellcheck disable=SC1090
          . "$f"
        fi
        ;;
      *.sql) log "running $f"; psql_init --dbname "$POSTGRES_DB" --file "$f" ;;
      *.sql.gz) log "running $f"; gzip -dc "$f" | psql_init --dbname "$POSTGRES_DB" ;;
      */\*) ;;
      *) log "ignoring $f" ;;
    esac
  done

  pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
  log "PostgreSQL initialised in $PGDATA; starting"
}

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

if [ "$1" = postgres ]; then
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 0700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    initialize
  fi
  unset POSTGRES_PASSWORD
fi

exec "$@"
