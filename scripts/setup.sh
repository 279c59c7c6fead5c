#!/usr/bin/env bash
# Set up everything the app (and, with --test, the test suite) needs on a fresh Debian machine:
# system packages, a virtual environment in .venv with the project installed, the translations.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0; [ "${1:-}" = "--test" ] && want_test=1

need_pkgs=()
have() { dpkg -s "$1" >/dev/null 2>&1; }
for p in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do have "$p" || need_pkgs+=("$p"); done
if [ $want_test = 1 ]; then
  for p in chromium zbar-tools poppler-utils ffmpeg; do have "$p" || need_pkgs+=("$p"); done
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "==> installing system packages: ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  python3 -m venv .venv
fi
# [postgres]: PostgreSQL's driver (an SQLite-only install can leave it out)
extras="[postgres]"; [ $want_test = 1 ] && extras="[postgres,test,lint]"
echo "==> installing congress-vote$extras into .venv"
# With uv (installed into .venv first) the same packages go in in seconds instead of a minute or
# two: it resolves and downloads in parallel and keeps its own cache. pip is the fallback.
if .venv/bin/pip install -q --disable-pip-version-check "uv>=0.4" >/dev/null 2>&1 \
  && .venv/bin/uv pip install -q --python .venv/bin/python -e ".$extras"; then
  :
else
  .venv/bin/pip install -q --disable-pip-version-check -e ".$extras"
fi
echo "==> compiling translations"
.venv/bin/python scripts/i18n.py >/dev/null
