#!/bin/bash
# Runs once, when the data directory is empty (compose mounts it into
# /docker-entrypoint-initdb.d/). The owner role `ctip` owns the database (so the migrations can
# create each service's schema) but is not a superuser; the runtime role `ctip_app` owns nothing
# and gets its grants from `ctip migrate`; the extensions the services use are created here by
# the superuser. An older volume: create ctip_app by hand (CREATE ROLE ctip_app LOGIN PASSWORD
# '...'), then run the migration jobs again.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$DB_PASSWORD" -v runtime_password="$DB_APP_PASSWORD" <<'SQL'
CREATE ROLE ctip LOGIN PASSWORD :'app_password';
CREATE ROLE ctip_app LOGIN NOINHERIT PASSWORD :'runtime_password';
ALTER DATABASE ctip OWNER TO ctip;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
SQL
if [ -n "${KEYCLOAK_DB_PASSWORD:-}" ]; then
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v kc_password="$KEYCLOAK_DB_PASSWORD" <<'SQL'
CREATE ROLE keycloak LOGIN PASSWORD :'kc_password';
CREATE DATABASE keycloak OWNER keycloak;
SQL
fi
