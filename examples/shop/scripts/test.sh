#!/usr/bin/env bash
# Both services' test suites: web (node:test via tsx) and api (pytest). tsx and python come from PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd web && tsx --test tests/routes.test.ts tests/server.test.ts)
(cd api && python -m pytest -q)
