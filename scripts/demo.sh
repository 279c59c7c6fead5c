#!/usr/bin/env bash
# One command from nothing to a running app with a demo congress on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
HOST="${HOST:-127.0.0.1}"; PORT="${PORT:-5000}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://$HOST:$PORT}"
.venv/bin/flask --app wsgi init-db
.venv/bin/flask --app wsgi demo
echo "==> open $PUBLIC_BASE_URL  (Ctrl-C stops the server)"
exec .venv/bin/flask --app wsgi run --host "$HOST" --port "$PORT"
