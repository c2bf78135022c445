#!/usr/bin/env bash
# deploy/local/postgres.sh start|stop|status|restart
#
# Runs a private PostgreSQL cluster for local development and CI, without Docker,
# using Debian's PostgreSQL packages (installed with apt-get if missing).
#
# Layout (git-ignored <repo>/.run/postgres/):
#   data/                    the cluster (initdb'd once, reused afterwards)
#   log/postgresql.log       server log
#   sock/                    unix socket dir
#
# Listens on 127.0.0.1:${CTIP_PG_PORT:-5432}. After start it ensures (idempotently, also on
# a cluster made by an older version of this script):
#   role ctip / password ctip (LOGIN, CREATEDB): owns the databases and the service schemas;
#     migrations (`ctip migrate`, CTIP_MIGRATION_DATABASE_URL) and tests' setup use it;
#   role ctip_app / password ctip_app (LOGIN, nothing else): the services' runtime role
#     (CTIP_DATABASE_URL); `ctip migrate` grants it DML on the service tables and only
#     INSERT + SELECT on every audit_log;
#   databases ctip and ctip_test owned by ctip, and extensions pg_trgm + unaccent in both.
#   DSN: postgresql://ctip:ctip@127.0.0.1:5432/ctip   (and .../ctip_test)
#        postgresql://ctip_app:ctip_app@127.0.0.1:5432/ctip   (the services)
#   Auth: unix socket = trust (superuser "postgres"), TCP = scram-sha-256.
#
# Running as root: initdb/postgres refuse to run as root, so the server runs as the
# `postgres` system user (via runuser), which must be able to reach the data dir.
# We chown <repo>/.run/postgres to postgres and check that postgres can actually
# get there (every parent directory needs o+x). We deliberately do NOT chmod
# parent directories (e.g. /root is 0700 and should stay that way). If the
# repo path is not traversable by postgres, the cluster lives instead in
#   /var/lib/ctip/postgres-<sha1(repo path)[:12]>/{data,log,sock}
# and <repo>/.run/postgres/{data,log} are symlinks to it (LOCATION says where).
# When not root, everything runs as the current user under <repo>/.run/postgres.
#
# If a Debian system cluster (pg_lsclusters) is online on our port, e.g. the
# "main" cluster a fresh `apt-get install postgresql` auto-starts on 5432, it is
# stopped with pg_ctlcluster (message printed). Any other process on the port
# -> clear error; pick another port with CTIP_PG_PORT.
#
# Exit codes: status -> 0 running, 3 stopped. start/stop -> 0 ok, 1 error.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
REPO_PG_DIR="$REPO_ROOT/.run/postgres"

PORT="${CTIP_PG_PORT:-5432}"
APP_USER="ctip"
APP_PASSWORD="ctip"
RUNTIME_USER="ctip_app"
RUNTIME_PASSWORD="ctip_app"
DATABASES=(ctip ctip_test)
EXTENSIONS=(pg_trgm unaccent)
SUPERUSER="postgres"

log() { echo "[postgres] $*"; }
err() { echo "[postgres] ERROR: $*" >&2; }
die() { err "$*"; exit 1; }

IS_ROOT=0
[[ "$(id -u)" == "0" ]] && IS_ROOT=1
# Directories must be usable by the postgres user: never sit in root's cwd.
cd /

# ------------------------------------------------------------------ binaries
PG_BIN=""
find_pg_bin() {
  # Existing cluster: use the major version it was created with.
  local want=""
  if [[ -f "$REPO_PG_DIR/data/PG_VERSION" ]]; then
    want="$(cat "$REPO_PG_DIR/data/PG_VERSION")"
    if [[ -x "/usr/lib/postgresql/$want/bin/pg_ctl" && -x "/usr/lib/postgresql/$want/bin/initdb" ]]; then
      PG_BIN="/usr/lib/postgresql/$want/bin"
      return 0
    fi
    return 1
  fi
  local d best="" bestv=0 v
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] || continue
    v="$(basename "$(dirname "$d")")"
    v="${v%%.*}"
    [[ "$v" =~ ^[0-9]+$ ]] || continue
    if (( v > bestv )); then bestv=$v; best=$d; fi
  done
  [[ -n "$best" ]] || return 1
  PG_BIN="$best"
}

install_pg() {
  log "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; installing Debian packages ..."
  local SUDO=()
  if (( ! IS_ROOT )); then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install PostgreSQL yourself (apt-get install -y postgresql postgresql-contrib)"
    SUDO=(sudo)
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null \
    || die "apt-get update failed"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q postgresql postgresql-contrib >/dev/null \
    || die "apt-get install postgresql postgresql-contrib failed"
}

ensure_pg_bin() {
  if ! find_pg_bin; then
    if [[ -f "$REPO_PG_DIR/data/PG_VERSION" ]]; then
      die "the cluster in $REPO_PG_DIR/data was created with PostgreSQL $(cat "$REPO_PG_DIR/data/PG_VERSION"), whose binaries are not installed (apt-get install postgresql-$(cat "$REPO_PG_DIR/data/PG_VERSION")), or delete the data dir to start fresh."
    fi
    install_pg
    find_pg_bin || die "PostgreSQL installed but no initdb/pg_ctl found in /usr/lib/postgresql/*/bin"
  fi
}

# ------------------------------------------------------------------ locations
BASE=""      # directory holding data/ log/ (and sock/ normally)
DATA_DIR=""
LOG_DIR=""
SOCK_DIR=""

# Run a command as the user that owns the cluster.
as_pg() {
  if (( IS_ROOT )); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

resolve_dirs() {
  mkdir -p "$REPO_PG_DIR"
  BASE="$REPO_PG_DIR"
  if (( IS_ROOT )); then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' system user (is the postgresql package installed?)"
    local fallback
    fallback="/var/lib/ctip/postgres-$(printf '%s' "$REPO_ROOT" | sha1sum | cut -c1-12)"
    if [[ -L "$REPO_PG_DIR/data" ]]; then
      # A previous run already decided on the fallback location.
      BASE="$fallback"
    else
      # Make .run/postgres (and anything already in it) owned by postgres.
      chown postgres:postgres "$REPO_PG_DIR"
      if ! runuser -u postgres -- test -w "$REPO_PG_DIR" -a -x "$REPO_PG_DIR" 2>/dev/null; then
        BASE="$fallback"
        log "user 'postgres' cannot reach $REPO_PG_DIR (a parent directory is not o+x);"
        log "using $BASE instead (symlinked from ${REPO_PG_DIR#"$REPO_ROOT"/})"
      fi
    fi
    if [[ "$BASE" == "$fallback" ]]; then
      mkdir -p "$BASE"
      chown postgres:postgres "$BASE"
      chmod 0700 "$BASE"
      [[ -e "$REPO_PG_DIR/data" || -L "$REPO_PG_DIR/data" ]] || ln -s "$BASE/data" "$REPO_PG_DIR/data"
      [[ -e "$REPO_PG_DIR/log" || -L "$REPO_PG_DIR/log" ]] || ln -s "$BASE/log" "$REPO_PG_DIR/log"
      echo "$BASE" >"$REPO_PG_DIR/LOCATION"
    fi
  fi
  DATA_DIR="$BASE/data"
  LOG_DIR="$BASE/log"
  SOCK_DIR="$BASE/sock"
  # Unix socket paths are limited to 107 bytes; very deep checkouts use /tmp.
  if (( ${#SOCK_DIR} + 20 > 107 )); then
    SOCK_DIR="/tmp/ctip-pg-$(printf '%s' "$REPO_ROOT" | sha1sum | cut -c1-12)"
  fi
  if (( IS_ROOT )); then
    install -d -o postgres -g postgres -m 0700 "$LOG_DIR" "$SOCK_DIR"
    [[ -d "$DATA_DIR" ]] || install -d -o postgres -g postgres -m 0700 "$DATA_DIR"
  else
    install -d -m 0700 "$LOG_DIR" "$SOCK_DIR"
    [[ -d "$DATA_DIR" ]] || install -d -m 0700 "$DATA_DIR"
  fi
}

# ------------------------------------------------------------------ helpers
# Is pid $1 alive? A zombie counts as dead: on some sandboxes/containers PID 1
# reaps orphans lazily, so `kill -0` (and thus `pg_ctl status`) keeps
# succeeding for a while after the postmaster was killed.
pid_alive() {
  local st
  st="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [[ -n "$st" && "$st" != "Z" && "$st" != "X" ]]
}

postmaster_pid() { head -n 1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true; }

pg_running() {
  [[ -f "$DATA_DIR/PG_VERSION" && -f "$DATA_DIR/postmaster.pid" ]] || return 1
  local pid
  pid="$(postmaster_pid)"
  [[ "$pid" =~ ^[0-9]+$ ]] && pid_alive "$pid"
}

# Any live process whose cwd is the data dir (postgres backends chdir there)?
leftover_backends() {
  local real p
  real="$(readlink -f "$DATA_DIR")"
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/cwd" 2>/dev/null)" == "$real" ]] && pid_alive "${p#/proc/}" && return 0
  done
  return 1
}

# After a crash / kill -9 the postmaster.pid lock file stays behind. Postgres
# copes with that itself unless the old pid still "exists" as a zombie, so we
# remove it once the old postmaster and its children are really gone.
remove_stale_pidfile() {
  [[ -f "$DATA_DIR/postmaster.pid" ]] || return 0
  local pid _
  pid="$(postmaster_pid)"
  log "removing stale postmaster.pid (pid ${pid:-?} is gone: crashed or killed)"
  # Give orphaned backends a moment to notice postmaster death and exit.
  for _ in $(seq 1 40); do
    leftover_backends || break
    sleep 0.25
  done
  rm -f "$DATA_DIR/postmaster.pid"
  # The socket lock file names the same dead pid; postgres would refuse it too.
  rm -f "$SOCK_DIR/.s.PGSQL.$PORT.lock" "$SOCK_DIR/.s.PGSQL.$PORT"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1
}

psql_super() { # psql_super DB [psql args...]
  local db="$1"; shift
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PORT" -U "$SUPERUSER" -d "$db" "$@"
}

free_port_from_system_cluster() {
  port_in_use "$PORT" || return 0
  if command -v pg_lsclusters >/dev/null 2>&1; then
    local ver name port status
    while read -r ver name port status _; do
      [[ "$port" == "$PORT" && "$status" == online* ]] || continue
      log "Debian system cluster $ver/$name is running on port $PORT (e.g. auto-started by apt-get install);"
      log "stopping it: pg_ctlcluster $ver $name stop   (start it again with: pg_ctlcluster $ver $name start)"
      if (( IS_ROOT )); then
        pg_ctlcluster "$ver" "$name" stop || true
      else
        sudo pg_ctlcluster "$ver" "$name" stop || true
      fi
    done < <(pg_lsclusters -h 2>/dev/null || true)
    local _
    for _ in $(seq 1 20); do port_in_use "$PORT" || break; sleep 0.25; done
  fi
  if port_in_use "$PORT"; then
    die "port 127.0.0.1:$PORT is already in use by another process. Stop it, or use another port: CTIP_PG_PORT=5433 $0 start"
  fi
}

init_cluster() {
  [[ -f "$DATA_DIR/PG_VERSION" ]] && return 0
  log "initdb: new cluster in $DATA_DIR ($("$PG_BIN/postgres" --version))"
  if ! as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U "$SUPERUSER" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$LOG_DIR/initdb.log" 2>&1; then
    cat "$LOG_DIR/initdb.log" >&2
    die "initdb failed"
  fi
  # Our settings live in ctip.conf (rewritten on every start) included from postgresql.conf.
  as_pg bash -c "echo \"include_if_exists = 'ctip.conf'\" >> '$DATA_DIR/postgresql.conf'"
}

write_conf() {
  as_pg bash -c "cat > '$DATA_DIR/ctip.conf'" <<EOF
# Generated by deploy/local/postgres.sh on every start -- edit the script instead.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK_DIR'
max_connections = 200
shared_buffers = 128MB
work_mem = 8MB
maintenance_work_mem = 64MB
fsync = on
synchronous_commit = on
wal_level = replica
max_wal_size = 1GB
password_encryption = 'scram-sha-256'
log_min_messages = warning
log_min_error_statement = error
log_connections = off
log_disconnections = off
log_line_prefix = '%m [%p] %q%u@%d '
timezone = 'UTC'
EOF
}

sql_lit() { printf "'%s'" "${1//\'/\'\'}"; }

ensure_objects() {
  psql_super postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $(sql_lit "$APP_USER")) THEN
    CREATE ROLE "$APP_USER" LOGIN CREATEDB PASSWORD $(sql_lit "$APP_PASSWORD");
  ELSE
    ALTER ROLE "$APP_USER" LOGIN CREATEDB PASSWORD $(sql_lit "$APP_PASSWORD");
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $(sql_lit "$RUNTIME_USER")) THEN
    CREATE ROLE "$RUNTIME_USER" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT
      NOREPLICATION NOBYPASSRLS PASSWORD $(sql_lit "$RUNTIME_PASSWORD");
  ELSE
    ALTER ROLE "$RUNTIME_USER" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT
      NOREPLICATION NOBYPASSRLS PASSWORD $(sql_lit "$RUNTIME_PASSWORD");
  END IF;
END
\$\$;
SQL
  local db ext
  for db in "${DATABASES[@]}"; do
    if [[ "$(psql_super postgres -tAc "SELECT 1 FROM pg_database WHERE datname = $(sql_lit "$db")")" != "1" ]]; then
      psql_super postgres -c "CREATE DATABASE \"$db\" OWNER \"$APP_USER\" ENCODING 'UTF8' TEMPLATE template0"
      log "created database $db"
    else
      psql_super postgres -c "ALTER DATABASE \"$db\" OWNER TO \"$APP_USER\""
    fi
    for ext in "${EXTENSIONS[@]}"; do
      psql_super "$db" -c "CREATE EXTENSION IF NOT EXISTS \"$ext\"" 2>&1 | grep -v 'already exists, skipping' >&2 || true
    done
    psql_super "$db" -tAc "SELECT count(*) FROM pg_extension WHERE extname IN ('pg_trgm','unaccent')" | grep -qx 2 \
      || die "extensions pg_trgm/unaccent missing in $db (is postgresql-contrib installed?)"
  done
}

wait_ready() {
  local _
  for _ in $(seq 1 120); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres; then return 0; fi
    sleep 0.5
  done
  tail -n 30 "$LOG_DIR/postgresql.log" >&2 || true
  die "server not accepting connections on 127.0.0.1:$PORT after 60s"
}

# ------------------------------------------------------------------ commands
cmd_start() {
  ensure_pg_bin
  resolve_dirs
  if pg_running; then
    # Running (or shutting down / crashed a moment ago: then fall through and start).
    local _
    for _ in $(seq 1 60); do
      if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres; then
        ensure_objects
        log "already running on 127.0.0.1:$PORT (data: $DATA_DIR)"
        return 0
      fi
      pg_running || break
      sleep 0.5
    done
    if pg_running; then
      die "a server is running on $DATA_DIR but not accepting connections on 127.0.0.1:$PORT (started with another CTIP_PG_PORT?). See $LOG_DIR/postgresql.log; '$0 stop' stops it."
    fi
    log "previous server process is gone (crashed or killed); starting again"
  fi
  free_port_from_system_cluster
  remove_stale_pidfile
  init_cluster
  write_conf
  log "starting PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (data: $DATA_DIR)"
  if ! as_pg "$PG_BIN/pg_ctl" start -D "$DATA_DIR" -l "$LOG_DIR/postgresql.log" -w -t 60 -s >/dev/null 2>&1; then
    echo "----- last lines of $LOG_DIR/postgresql.log -----" >&2
    tail -n 30 "$LOG_DIR/postgresql.log" >&2 || true
    die "pg_ctl start failed"
  fi
  wait_ready
  ensure_objects
  log "ready: postgresql://$APP_USER:$APP_PASSWORD@127.0.0.1:$PORT/ctip (also /ctip_test; services: $RUNTIME_USER)"
}

cmd_stop() {
  if ! find_pg_bin; then log "not running (PostgreSQL not installed)"; return 0; fi
  resolve_dirs
  if ! pg_running; then
    log "not running"
    return 0
  fi
  as_pg "$PG_BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t 60 -s
  log "stopped"
}

cmd_status() {
  if ! find_pg_bin; then log "stopped (PostgreSQL not installed)"; return 3; fi
  resolve_dirs
  if pg_running; then
    local pid
    pid="$(postmaster_pid)"
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
      log "running (pid $pid) on 127.0.0.1:$PORT (data: $DATA_DIR)"
    else
      log "running (pid $pid) but not accepting connections on 127.0.0.1:$PORT"
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
