#!/usr/bin/env bash
# Run the quickstart demo through the real Copilot CLI, setting everything up first.
# With GitHub auth (GITHUB_TOKEN / GH_TOKEN, or a logged-in CLI) it uses Copilot;
# otherwise it runs offline against the project's scripted model server, and says so.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$PY" examples/quickstart.py "$@"
