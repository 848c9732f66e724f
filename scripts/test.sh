#!/usr/bin/env bash
# Run every test (fake-server tests and real-CLI tests), setting everything up first.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k stream -x`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$PY" -m pytest "$@"
