#!/usr/bin/env bash
# Set up everything copilot-sync needs on a fresh machine, idempotently:
# a virtualenv in .venv, the package with its test extras, and two Copilot CLIs in the
# per-user cache: the default one (the newest tested, npm @github/copilot) and the oldest
# supported one, for the smoke set (versions in src/copilot_sync/_versions.py).
# Source it (`. scripts/setup.sh`) to get $PY pointing at the venv's python.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${COPILOT_SYNC_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
stamp="$VENV/.copilot-sync-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  echo "setup: installing copilot-sync and its test dependencies" >&2
  "$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT[test]" 2>&1 | grep -v "^WARNING: Location" >&2 || true
  "$PY" -c "import copilot_sync, pytest, pytest_timeout, hypothesis" || { echo "setup: package install failed" >&2; exit 1; }
  touch "$stamp"
fi
"$PY" -m copilot_sync install-cli >&2
OLDEST="$("$PY" -c 'from copilot_sync._versions import OLDEST_SUPPORTED_CLI_VERSION as v; print(v)')"
"$PY" -m copilot_sync install-cli --version "$OLDEST" >&2
export PY
