# syntax=docker/dockerfile:1.7
# The example shop (examples/shop) as a container image, for docker-compose.yml. Build from the repository root:
#   docker build -f deploy/compose/shop.Dockerfile -t medic/shop .
# It lives here, not in examples/shop, because setup_repo.py copies every file there into the shop's repository.
#
# One image, three jobs:
#   shop-setup            materialise the shop's git history, a bare "forge" and one checkout per stage on /srv/shop
#   shop-stage STAGE      serve a stage (web on 3000, api on 8000) from /srv/shop/deployments/STAGE and restart it
#                         whenever that checkout's HEAD moves (the releaser deploys by checking out a new commit)
#   anything else         e.g. `python /opt/shop/src/traffic.py --web http://shop-production:3000 ...`

FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv git ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# TypeScript runs with tsx, pinned by the workspace's committed lock file (the same tools the tests use).
COPY tools/node/package.json tools/node/package-lock.json /opt/node-tools/
RUN cd /opt/node-tools && npm ci --no-audit --no-fund && npm cache clean --force

# The API's runtime, pinned to the versions in the workspace's uv.lock (a test keeps them equal).
RUN python3 -m venv /opt/shop/venv \
 && /opt/shop/venv/bin/pip install --no-cache-dir \
      fastapi==0.165.0 starlette==1.10.0 pydantic==2.14.4 uvicorn==0.54.0 httpx==0.28.1 pytest==9.2.0

COPY examples/shop /opt/shop/src

# The shop binds 127.0.0.1, right on a developer machine; in a container it must listen on every interface.
COPY <<'EOF' /opt/shop/listen-all.mjs
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[1] === "127.0.0.1") args[1] = "0.0.0.0";
  return listen.apply(this, args);
};
EOF

COPY --chmod=0755 <<'EOF' /usr/local/bin/shop-setup
#!/bin/sh
# Create /srv/shop once: repo/ (forge.git, clone/ as setup_repo.py makes them), deployments/{production,staging}
# (checkouts of main and staging whose origin is the forge) and logs/. SHOP_BAD_CHANGES picks the bad changes
# committed on top (space-separated names from bad-changes/, or "none").
set -eu
root="${SHOP_ROOT:-/srv/shop}"
if [ -d "$root/deployments/staging/.git" ]; then
  echo "shop-setup: $root is ready"
  exit 0
fi
rm -rf "$root/repo" "$root/deployments"
set --
for change in ${SHOP_BAD_CHANGES:-001-practice-null-check}; do
  if [ "$change" = none ]; then set -- --no-bad-change; break; fi
  set -- "$@" --bad-change "$change"
done
python "${SHOP_SRC:-/opt/shop/src}/setup_repo.py" "$root/repo" "$@" >/dev/null
mkdir -p "$root/deployments" "$root/logs"
git clone --quiet --branch main "$root/repo/forge.git" "$root/deployments/production"
git clone --quiet --branch staging "$root/repo/forge.git" "$root/deployments/staging"
echo "shop-setup: $root ready (bad changes: ${SHOP_BAD_CHANGES:-001-practice-null-check})"
EOF

COPY --chmod=0755 <<'EOF' /usr/local/bin/shop-stage
#!/bin/sh
# Serve one stage of the shop from its checkout: web (tsx) and api (uvicorn), logs as JSON lines under $SHOP_LOG_DIR.
# The checkout's HEAD is polled every second; when it moves, both services restart on the new commit.
set -eu
stage="${1:?usage: shop-stage STAGE}"
checkout="${SHOP_DEPLOYMENTS:-/srv/shop/deployments}/$stage"
logs="${SHOP_LOG_DIR:-/srv/shop/logs}"
web_port="${SHOP_WEB_PORT:-3000}"
api_port="${SHOP_API_PORT:-8000}"
mkdir -p "$logs"
web=""
api=""
commit=""

start() {
  commit="$(git -C "$checkout" rev-parse HEAD)"
  short="$(printf '%.12s' "$commit")"
  echo "shop-stage: $stage serving $commit"
  (cd "$checkout/web" && PORT="$web_port" SHOP_SERVICE=web SHOP_COMMIT="$commit" SHOP_ENVIRONMENT="$stage" \
    SHOP_RELEASE="shop-web@$short" SHOP_LOG_FILE="$logs/web-$stage.jsonl" exec tsx src/server.ts) &
  web=$!
  (cd "$checkout/api" && SHOP_SERVICE=api SHOP_COMMIT="$commit" SHOP_ENVIRONMENT="$stage" \
    SHOP_RELEASE="shop-api@$short" SHOP_LOG_FILE="$logs/api-$stage.jsonl" \
    exec python -m uvicorn app.main:app --host 0.0.0.0 --port "$api_port" --no-access-log --log-level warning) &
  api=$!
}

stop() {
  kill -TERM "$web" "$api" 2>/dev/null || true
  wait "$web" "$api" 2>/dev/null || true
}

trap 'stop; exit 0' TERM INT
start
while sleep 1; do
  head="$(git -C "$checkout" rev-parse HEAD 2>/dev/null || echo "$commit")"
  if [ "$head" != "$commit" ]; then
    echo "shop-stage: $stage moved to $head, restarting"
    stop
    start
  elif ! kill -0 "$web" 2>/dev/null || ! kill -0 "$api" 2>/dev/null; then
    echo "shop-stage: a $stage service exited" >&2
    stop
    exit 1
  fi
done
EOF

RUN groupadd --system --gid 10001 medic && useradd --system --uid 10001 --gid medic --home-dir /srv/shop medic \
 && mkdir -p /srv/shop && chown medic:medic /srv/shop
ENV PATH=/opt/shop/venv/bin:/opt/node-tools/node_modules/.bin:$PATH \
    NODE_OPTIONS="--import=/opt/shop/listen-all.mjs" \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GIT_AUTHOR_NAME=Medic GIT_AUTHOR_EMAIL=medic@localhost GIT_COMMITTER_NAME=Medic GIT_COMMITTER_EMAIL=medic@localhost
WORKDIR /srv/shop
USER 10001:10001
EXPOSE 3000 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; [u.urlopen(f'http://127.0.0.1:{p}/health', timeout=2) for p in (3000, 8000)]"]
ENTRYPOINT []
CMD ["shop-stage", "production"]
