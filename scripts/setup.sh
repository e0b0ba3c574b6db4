#!/usr/bin/env bash
# Prepare a fresh machine: the virtual environment from pinned requirements, and a
# check that RabbitMQ answers. Idempotent; `make run` and `make test` call it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.installed

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
  echo "setup: Python 3.11 or newer is required (found $($PYTHON --version 2>&1))" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ requirements.txt -nt "$STAMP" ] || [ requirements-dev.txt -nt "$STAMP" ]; then
  echo "setup: installing pinned requirements"
  # hash-checking mode: every package pinned, every file checked against its sha256
  # (scripts/lock_hashes.py writes the hashes); anything else is refused
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
  touch "$STAMP"
fi
# Operations tools from Debian: prometheus + promtool (rules, alert tests, a real Prometheus in
# the e2e tests) and docker-compose 1.29 (`docker-compose config` validates the compose file;
# no Docker engine needed). Installed only when missing; needs root (CI runs as root).
missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v docker-compose >/dev/null || missing+=(docker-compose)
# the browser tests (tests/browser): Debian's Chromium, driven by Playwright, and a Chinese
# font so that the pages (and the README's screenshots) show Chinese text, not boxes
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/truetype/wqy ] || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: install ${missing[*]} (Debian packages) as root, then run make again" >&2
    exit 1
  fi
  echo "setup: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! kubectl kustomize --help >/dev/null 2>&1; then
  echo "setup: kubectl (with kustomize) is needed to render deploy/kubernetes in the tests" >&2
  exit 1
fi
# Node.js tools and examples, pinned by their lockfiles: the AsyncAPI validator, the
# Node.js example department (docs/department-guide.md).
for dir in tools/asyncapi departments/examples/node-department services/web/frontend; do
  [ -f "$dir/package-lock.json" ] || continue
  if [ ! -f "$dir/node_modules/.installed" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.installed" ]; then
    if ! command -v npm >/dev/null; then
      echo "setup: npm (Node.js 20 or newer) is required for $dir" >&2
      exit 1
    fi
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules/.installed"
  fi
done
# The screens (services/web): built into services/web/dist from the pinned front-end sources
# whenever a source is newer than the last build (docs/adr/0024-web-front-end.md)
web=services/web
if [ ! -f "$web/dist/index.html" ] || [ -n "$(find "$web/frontend" -path "$web/frontend/node_modules" -prune -o -type f -newer "$web/dist/index.html" -print -quit)" ]; then
  echo "setup: building the screens (npm run build in $web/frontend)"
  (cd "$web/frontend" && npm run build --silent >/dev/null)
fi
