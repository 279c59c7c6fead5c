#!/usr/bin/env bash
# One command that sets up and runs the whole test suite, on SQLite and then on PostgreSQL.
# Extra arguments go to pytest (e.g. scripts/test.sh -k rules).
#
# It needs nothing running beforehand: it installs PostgreSQL's and Redis's server packages when
# they are missing, starts a private, throwaway PostgreSQL instance (initdb in a temporary folder,
# on a free port, as an unprivileged user) and a private Redis on another free port, runs the
# suite against them, and stops and deletes them on exit. The machine's own clusters and servers
# (e.g. on 5432 and 6379) are neither used nor touched.
#
# The suite runs in parallel (pytest-xdist, one worker per core; TEST_WORKERS=1 runs it in one
# process). Each worker has its own SQLite file, PostgreSQL database and live servers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
need_pkgs=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_pkgs+=(postgresql)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "==> installing system packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

free_port() {
  .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- private PostgreSQL and Redis, gone on exit ------------------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/congress-test.XXXXXX")"
chmod 755 "$tmp"
pg_data="$tmp/pg"
mkdir "$pg_data"
if [ "$(id -u)" = 0 ]; then  # PostgreSQL refuses to run as root
  chown nobody "$pg_data"
  as_pg() { (cd "$tmp" && runuser -u nobody -- "$@"); }
else
  as_pg() { "$@"; }
fi
cleanup() {
  set +e
  declare -F stop_background >/dev/null && stop_background
  [ -f "$tmp/redis.pid" ] && kill "$(cat "$tmp/redis.pid")" 2>/dev/null
  [ -f "$pg_data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$pg_data" -m immediate -w stop \
    >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_port="$(free_port)"
as_pg "$PG_BIN/initdb" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync -D "$pg_data" \
  >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w \
  -o "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1 -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null \
  || { cat "$pg_data/server.log" >&2; exit 1; }
"$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres congress_test
echo "==> private PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port ($pg_data)"

redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --dir "$tmp" --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" >/dev/null
for _ in $(seq 1 50); do [ -s "$tmp/redis.pid" ] && break; sleep 0.1; done
echo "==> private Redis on 127.0.0.1:$redis_port"
export TEST_REDIS_URL="redis://127.0.0.1:$redis_port"

# ---- work beside the suite ----------------------------------------------------------------------
# mypy and the `isolated` tests (below) run in the background beside the suite, on the two cores
# the suite leaves idle while it waits (browsers, servers, the slowest worker's last tests); their
# output is shown, and their verdicts counted, at the end. A failure of the suite stops them.
bg_pids=()
bg_names=()
background() {  # background NAME COMMAND...
  local name="$1"; shift
  "$@" >"$tmp/$name.log" 2>&1 &
  bg_pids+=("$!")
  bg_names+=("$name")
}
background_done() {  # wait for each, show its output; fail when one failed (pytest's 5 is no failure)
  local i rc failed=0
  for i in "${!bg_pids[@]}"; do
    rc=0
    wait "${bg_pids[$i]}" || rc=$?
    echo "==> ${bg_names[$i]} (ran in the background)"
    cat "$tmp/${bg_names[$i]}.log"
    if [ "$rc" != 0 ] && [ "$rc" != 5 ]; then
      echo "==> ${bg_names[$i]} FAILED (exit $rc)" >&2
      failed=1
    fi
  done
  bg_pids=()
  return "$failed"
}
kill_tree() {  # kill_tree PID: the process and everything it started (pytest, gunicorn ...)
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill "$1" 2>/dev/null
}
stop_background() {
  local p
  for p in "${bg_pids[@]}"; do kill_tree "$p"; done
}

# ---- the house rules: lint, format, types ------------------------------------------------------
echo "==> ruff check, ruff format --check (mypy in the background)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
background mypy .venv/bin/mypy

# ---- the suite, on each database ---------------------------------------------------------------
workers="${TEST_WORKERS:-auto}"
# Temporary files under our own folder: pytest prunes its shared numbered folders when any
# other run starts, which would delete files under a long run.
#
# Tests marked `isolated` run in a pytest of their own, in one process, on a database of their
# own: the fault tests (tests/test_faults.py: gunicorn SIGKILLed mid-vote, a full disk), after
# which the tests that ran next on the same SQLite database once answered "disk I/O error", and
# the write-queue tests (tests/test_write_queue.py). Both databases' isolated runs go one after
# the other in the background while the PostgreSQL half runs (their SQLite file is their own
# session's, their PostgreSQL database is `congress_test` itself, the workers use
# `congress_test_gw<n>`); most of their time is spent waiting on servers. Exit code 5 (nothing
# selected, e.g. with -k) is not a failure there.
#
# The browser tests (marker e2e: Chromium driving the pages) run once, in the SQLite half: they
# test the pages, the scripts and what a person sees, which do not depend on the database; every
# other test runs on both databases, except those marked `db_independent` (their subject does
# not depend on the database: the rules engine, packaging, the source's layout; pyproject.toml
# lists the marker), which run in the SQLite half only. TEST_E2E_ON_POSTGRESQL=1 runs the
# browser tests on PostgreSQL too.
#
# Each worker starts on its half of the tests in order, the longest first (tests/conftest.py's
# RUN_FIRST), and one that runs out takes tests from the end of the other's (--dist worksteal):
# both end together, and a module's tests mostly stay on one worker (its fixtures made once).
suite() {  # suite NAME MARKER-EXPRESSION EXTRA-PYTEST-ARGS...
  local name="$1" marks="$2"; shift 2
  .venv/bin/python -m pytest -q -p no:cacheprovider -n "$workers" --dist worksteal \
    --basetemp="$tmp/$name" -m "not isolated and ($marks)" "$@"
}
isolated() {  # isolated NAME MARKER-EXPRESSION DATABASE-URL EXTRA-PYTEST-ARGS...
  local name="$1" marks="$2" url="$3"; shift 3
  TEST_DATABASE_URL="$url" .venv/bin/python -m pytest -q -p no:cacheprovider \
    --basetemp="$tmp/$name-isolated" -m "isolated and ($marks)" "$@"
}
isolated_both() {  # the SQLite half's isolated tests, then the PostgreSQL half's
  local rc=0
  echo "-- SQLite"
  isolated sqlite "e2e or not e2e" "" "$@" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 5 ] || return "$rc"
  echo "-- PostgreSQL"
  isolated postgresql "$pg_marks" "$pg_url" "$@"
}

pg_url="postgresql+psycopg://postgres@127.0.0.1:$pg_port/congress_test"
pg_marks="not e2e and not db_independent"
[ "${TEST_E2E_ON_POSTGRESQL:-0}" = 1 ] && pg_marks="not db_independent"

# A failing half still shows what ran beside it (mypy, the isolated tests) before the exit; a
# failing SQLite half stops the run there, as before.
rc=0
echo "==> test suite on SQLite (with the browser tests)"
workers="${TEST_WORKERS_SQLITE:-$workers}" suite sqlite "e2e or not e2e" "$@" || rc=$?
if [ "$rc" != 0 ]; then
  background_done || true
  exit "$rc"
fi

echo "==> test suite on PostgreSQL (the isolated tests of both in the background)"
background isolated isolated_both "$@"
TEST_DATABASE_URL="$pg_url" suite postgresql "$pg_marks" "$@" || rc=$?
background_done || rc=1
exit "$rc"
