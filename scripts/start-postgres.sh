#!/usr/bin/env bash
# Start the local PostgreSQL cluster for CI and the PostgreSQL test suites.
#
# Runs as root (or as the postgres user) on Debian with the postgresql-15
# package installed. Idempotent: starts the cluster only when it is down and
# creates the role and database only when they are missing.
#
# On success the LAST line on stdout is
#   TRACKHUB_PG_URL=postgresql://trackhub:trackhub@127.0.0.1:5432/trackhub
# (everything else goes to stderr), so CI can do:
#   export "$(scripts/start-postgres.sh | tail -n 1)"
# It exits non-zero, with the server log, when the server cannot be started.
#
# Overridable: PG_VERSION (15), PG_CLUSTER (main), PG_WAIT_SECONDS (30).
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_CLUSTER="${PG_CLUSTER:-main}"
PG_WAIT_SECONDS="${PG_WAIT_SECONDS:-30}"
PG_USER=trackhub
PG_PASSWORD=trackhub
PG_DB=trackhub
HOST=127.0.0.1

log() { echo "start-postgres: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v pg_ctlcluster >/dev/null 2>&1 || die "pg_ctlcluster not found (is the postgresql-${PG_VERSION} package installed?)"
command -v pg_lsclusters >/dev/null 2>&1 || die "pg_lsclusters not found"

# Run a command as the postgres OS user (peer authentication on the socket).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  elif [ "$(id -un)" = postgres ]; then
    (cd / && "$@")
  else
    die "must run as root or as the postgres user (running as $(id -un))"
  fi
}

# "15 main 5432 online postgres /var/lib/... /var/log/..." (no header with -h)
cluster_line="$(pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1 == v && $2 == c')"
[ -n "$cluster_line" ] || die "PostgreSQL cluster ${PG_VERSION}/${PG_CLUSTER} does not exist (pg_lsclusters shows: $(pg_lsclusters -h 2>&1 | tr '\n' ';'))"
PORT="$(echo "$cluster_line" | awk '{print $3}')"
STATUS="$(echo "$cluster_line" | awk '{print $4}')"
LOGFILE="$(echo "$cluster_line" | awk '{print $7}')"

show_log() {
  if [ -n "$LOGFILE" ] && [ -r "$LOGFILE" ]; then
    log "last lines of $LOGFILE:"
    tail -n 30 "$LOGFILE" >&2 || true
  fi
}

case "$STATUS" in
  online*)
    log "cluster ${PG_VERSION}/${PG_CLUSTER} already running on port ${PORT}"
    ;;
  *)
    log "starting cluster ${PG_VERSION}/${PG_CLUSTER} (status: ${STATUS})"
    if ! pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start >&2; then
      show_log
      die "pg_ctlcluster ${PG_VERSION} ${PG_CLUSTER} start failed"
    fi
    ;;
esac

ready=0
for _ in $(seq 1 "$((PG_WAIT_SECONDS * 4))"); do
  if pg_isready -q -h "$HOST" -p "$PORT"; then ready=1; break; fi
  sleep 0.25
done
if [ "$ready" != 1 ]; then
  show_log
  die "PostgreSQL did not accept connections on ${HOST}:${PORT} within ${PG_WAIT_SECONDS}s"
fi

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"; }

# Role: create if missing; otherwise make sure password/attributes are right.
psql_admin >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '${PG_USER}') THEN
    CREATE ROLE ${PG_USER} LOGIN CREATEDB PASSWORD '${PG_PASSWORD}';
  ELSE
    ALTER ROLE ${PG_USER} LOGIN CREATEDB PASSWORD '${PG_PASSWORD}';
  END IF;
END
\$\$;
SQL

if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'")" != 1 ]; then
  log "creating database ${PG_DB}"
  psql_admin -c "CREATE DATABASE ${PG_DB} OWNER ${PG_USER}" >&2
fi

URL="postgresql://${PG_USER}:${PG_PASSWORD}@${HOST}:${PORT}/${PG_DB}"

# Prove the URL works with password authentication over TCP.
if ! PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5 psql -X -q -h "$HOST" -p "$PORT" -U "$PG_USER" -d "$PG_DB" -tAc 'SELECT 1' >/dev/null; then
  show_log
  die "cannot connect as ${PG_USER} to ${HOST}:${PORT}/${PG_DB}"
fi

log "ready"
echo "TRACKHUB_PG_URL=${URL}"
