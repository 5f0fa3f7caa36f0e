"""Run one stage of the shop: the web service (tsx) and the API (uvicorn) from this checkout.

    python scripts/serve.py --stage production --port 41001 --api-port 41002 --log-dir /var/log/shop

Logs go to <log-dir>/web-<stage>.jsonl and <log-dir>/api-<stage>.jsonl (JSON lines). The commit is read
from git when the checkout is a repository. If either service exits, the other is stopped and this
process exits with that status; SIGTERM/SIGINT stop both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent


def current_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else os.environ.get("SHOP_COMMIT", "unknown")


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the shop's web and api services for one stage.")
    parser.add_argument("--stage", default="development")
    parser.add_argument("--port", type=int, required=True, help="web port")
    parser.add_argument("--api-port", type=int, required=True)
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument("--release", default=None)
    args = parser.parse_args()

    args.log_dir.mkdir(parents=True, exist_ok=True)
    commit = current_commit()
    tsx = shutil.which("tsx")
    if tsx is None:
        print("serve.py: tsx is not on PATH (tools/node/node_modules/.bin)", file=sys.stderr)
        return 2
    common = {**os.environ, "SHOP_COMMIT": commit, "SHOP_ENVIRONMENT": args.stage}
    web_env = {
        **common,
        "PORT": str(args.port),
        "SHOP_SERVICE": "web",
        "SHOP_RELEASE": args.release or f"shop-web@{commit[:12]}",
        "SHOP_LOG_FILE": str(args.log_dir / f"web-{args.stage}.jsonl"),
    }
    api_env = {
        **common,
        "SHOP_SERVICE": "api",
        "SHOP_RELEASE": args.release or f"shop-api@{commit[:12]}",
        "SHOP_LOG_FILE": str(args.log_dir / f"api-{args.stage}.jsonl"),
    }
    children = [
        subprocess.Popen([tsx, "src/server.ts"], cwd=ROOT / "web", env=web_env),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.api_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT / "api",
            env=api_env,
        ),
    ]

    def stop(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.2)
    stop(signal.SIGTERM, None)
    codes = []
    for child in children:
        try:
            codes.append(child.wait(timeout=10))
        except subprocess.TimeoutExpired:
            child.kill()
            codes.append(child.wait())
    return next((code for code in codes if code not in (0, -signal.SIGTERM)), 0)


if __name__ == "__main__":
    raise SystemExit(main())
