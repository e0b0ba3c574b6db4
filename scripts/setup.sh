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
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements-dev.txt
  touch "$STAMP"
fi
