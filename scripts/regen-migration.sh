#!/usr/bin/env bash
# Until the first release, the schema is one initial migration, regenerated from the models.
# Run this after changing a model; tests/test_schema.py fails when the two differ.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f congress_vote/migrations/versions/*.py
DATABASE_URL="sqlite:///$tmp/empty.db" SECRET_KEY=regen .venv/bin/flask --app wsgi db revision \
  --autogenerate -m "initial schema" --rev-id 0001 -d congress_vote/migrations >/dev/null 2>&1
rm -rf "$tmp"
echo "regenerated congress_vote/migrations/versions/0001_initial_schema.py"
