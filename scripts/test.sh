#!/usr/bin/env bash
# One command that sets up and runs the whole test suite, on SQLite and then on PostgreSQL.
# Extra arguments go to pytest (e.g. scripts/test.sh -k rules).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

if ! pg_isready -q -h 127.0.0.1 2>/dev/null; then
  echo "==> starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
fi

echo "==> test suite on SQLite"
.venv/bin/python -m pytest -q "$@"

if pg_isready -q -h 127.0.0.1 2>/dev/null; then
  dbname="congress_test_$$"
  createdb -h 127.0.0.1 -U postgres "$dbname"
  trap 'dropdb -h 127.0.0.1 -U postgres --if-exists "$dbname"' EXIT
  echo "==> test suite on PostgreSQL ($dbname)"
  TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$dbname" \
    .venv/bin/python -m pytest -q "$@"
else
  echo "PostgreSQL is not available: the suite must run on both databases" >&2
  exit 1
fi
