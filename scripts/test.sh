#!/usr/bin/env bash
# Run the whole test suite on SQLite and PostgreSQL.
#
# Runs scripts/setup.sh, makes sure Redis (127.0.0.1:6379) and PostgreSQL
# (127.0.0.1:5432) run, then runs pytest with any arguments given to this
# script. Exits with pytest's exit code, except that "no tests collected"
# (pytest's 5) counts as a failure.
#
# PostgreSQL must accept the user postgres on 127.0.0.1. When it does not
# accept it without a password and HELPDESK_TEST_POSTGRES_URL is unset, this
# script gives the postgres role a generated password (only when the role has
# none) and keeps it in var/test/postgres-password for later runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'test: %s\n' "$*"; }
fail() { printf 'test: %s\n' "$*" >&2; exit 1; }

wait_for() {
  local description=$1
  shift
  for _ in $(seq 1 30); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  fail "$description did not start within 30 seconds."
}

redis_is_up() {
  [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]
}

ensure_redis() {
  if redis_is_up; then
    return
  fi

  log "starting Redis on 127.0.0.1:6379"
  local directory=/var/lib/redis logfile=/var/log/redis/ci.log
  if [ ! -w "$directory" ] || [ ! -w "$(dirname "$logfile")" ]; then
    directory=$PWD/var/test/redis
    logfile=$directory/redis.log
    mkdir -p "$directory"
  fi
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir "$directory" --logfile "$logfile"
  wait_for "Redis on 127.0.0.1:6379" redis_is_up
}

postgres_is_up() {
  pg_isready -q -h 127.0.0.1 -p 5432
}

ensure_postgres() {
  if postgres_is_up; then
    return
  fi

  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || fail "no PostgreSQL cluster found under /etc/postgresql: install the postgresql package (scripts/setup.sh does)."
  log "starting PostgreSQL $version on 127.0.0.1:5432"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for "PostgreSQL on 127.0.0.1:5432" postgres_is_up
}

# psql takes libpq URLs, but the tests take SQLAlchemy URLs with the driver name.
postgres_login_works() {
  psql -w -qtA -c 'select 1' "${1/postgresql+psycopg:/postgresql:}" >/dev/null 2>&1
}

configure_postgres_login() {
  if [ -n "${HELPDESK_TEST_POSTGRES_URL:-}" ]; then
    postgres_login_works "$HELPDESK_TEST_POSTGRES_URL" \
      || fail "cannot log in to PostgreSQL with HELPDESK_TEST_POSTGRES_URL: check the user, password and address in it."
    return
  fi
  if postgres_login_works "postgresql://postgres@127.0.0.1:5432/postgres"; then
    return
  fi

  local password_file=var/test/postgres-password password
  if [ ! -s "$password_file" ]; then
    local has_password
    has_password=$(runuser -u postgres -- psql -qtA -c "select rolpassword is not null from pg_authid where rolname = 'postgres'" 2>/dev/null || true)
    if [ "$has_password" != f ]; then
      fail "PostgreSQL rejects user postgres on 127.0.0.1 without a password: set HELPDESK_TEST_POSTGRES_URL=postgresql+psycopg://postgres:PASSWORD@127.0.0.1:5432/postgres"
    fi
    log "giving the PostgreSQL role postgres a generated password for the tests ($password_file)"
    mkdir -p "$(dirname "$password_file")"
    (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$password_file")
    runuser -u postgres -- psql -q -c "alter role postgres password '$(cat "$password_file")'"
  fi
  password=$(cat "$password_file")
  export HELPDESK_TEST_POSTGRES_URL="postgresql+psycopg://postgres:${password}@127.0.0.1:5432/postgres"
  postgres_login_works "$HELPDESK_TEST_POSTGRES_URL" \
    || fail "PostgreSQL rejects the password in $password_file: delete the file or set HELPDESK_TEST_POSTGRES_URL."
}

bash scripts/setup.sh
ensure_redis
ensure_postgres
configure_postgres_login

# A hung test fails after 10 minutes instead of holding the whole run.
# Most tests wait on servers and worker processes rather than the CPU, so
# they run in HELPDESK_TEST_PROCESSES processes (default 2). Set it to 0 to
# run them in one process.
status=0
.venv/bin/pytest --timeout=600 --durations=15 -n "${HELPDESK_TEST_PROCESSES:-2}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
  fail "pytest collected no tests; counting that as a failure."
fi
exit "$status"
