#!/usr/bin/env bash
# Both services' test suites: web (node:test via tsx) and api (pytest). tsx and python come from PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd web && tsx --test tests/routes.test.ts tests/server.test.ts)
# The api suite uses no pytest plugins: not loading whatever the running Python has installed saves ~2 s a run.
(cd api && PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest -q)
