#!/usr/bin/env bash
# Install the shared Node tools (tsx, typescript; @sentry/node for the watcher's SDK ingest tests) into tools/node/node_modules from the committed
# package-lock.json, only when they are missing or older than the lock file. Test runners and the demo put
# tools/node/node_modules/.bin on PATH so example apps and scenarios run `tsx` without their own installs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tools/node
stamp="$dir/node_modules/.package-lock.json"
if ! command -v npm >/dev/null 2>&1; then
  echo "install-node-tools: npm is missing (scripts/install-system.sh installs nodejs and npm)" >&2
  exit 1
fi
if [ -x "$dir/node_modules/.bin/tsx" ] && [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ]; then
  exit 0
fi
echo "installing tools/node (tsx, typescript, @sentry/node) from package-lock.json"
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
