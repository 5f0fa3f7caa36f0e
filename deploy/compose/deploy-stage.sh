#!/bin/sh
# The compose stack's deploy command (the releaser's [deployer] kind = "command", see medic.toml): check out SHA in
# the stage's checkout on the shared volume, then wait until both of the stage's services report that commit on
# /health (the stage container restarts them when its checkout's HEAD moves). Exit 0 only once the commit serves.
#
#   deploy-stage.sh STAGE SHA
set -eu
stage="${1:?usage: deploy-stage.sh STAGE SHA}"
sha="${2:?usage: deploy-stage.sh STAGE SHA}"
checkout="${SHOP_DEPLOYMENTS:-/srv/shop/deployments}/$stage"
host="${SHOP_STAGE_HOST:-shop-$stage}"

git -C "$checkout" fetch --quiet origin
git -C "$checkout" checkout --quiet --force "$sha"
commit="$(git -C "$checkout" rev-parse HEAD)"

exec python3 - "$host" "$commit" "${SHOP_DEPLOY_TIMEOUT_S:-120}" "${SHOP_WEB_PORT:-3000}" "${SHOP_API_PORT:-8000}" <<'PY'
import json
import sys
import time
import urllib.request

host, commit, timeout_s, *ports = sys.argv[1:]
deadline = time.monotonic() + float(timeout_s)
waiting = set(ports)
while waiting and time.monotonic() < deadline:
    for port in sorted(waiting):
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=2) as response:
                if json.load(response).get("commit") == commit:
                    waiting.discard(port)
        except (OSError, ValueError):
            pass  # not up yet, or still the old process going down
    if waiting:
        time.sleep(0.5)
if waiting:
    sys.exit(f"deploy-stage: {host} ports {', '.join(sorted(waiting))} do not serve {commit} after {timeout_s}s")
print(f"deploy-stage: {host} serves {commit}")
PY
