"""Run one stage of the shop: the web service and the API (uvicorn) from this checkout.

    python scripts/serve.py --stage production --port 41001 --api-port 41002 --log-dir /var/log/shop [--web next]

The web service runs from source with tsx (``--web tsx``, the default: ``src/server.ts``), or as the Next.js
build that ``scripts/build.py`` made (``--web next``: ``next start``, telemetry off). Logs go to
<log-dir>/web-<stage>.jsonl and <log-dir>/api-<stage>.jsonl (JSON lines). ``SHOP_WEB_SENTRY_DSN`` and
``SHOP_API_SENTRY_DSN`` become each service's ``SENTRY_DSN`` (its Sentry project); without them neither reports
to Sentry. The commit is read from git when the checkout is a repository. If either service exits, the other is
stopped and this process exits with that status; SIGTERM/SIGINT stop both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent


def current_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else os.environ.get("SHOP_COMMIT", "unknown")


def web_command(runtime: str, port: int) -> list[str] | None:
    """The web service's command line for ``runtime``, or None (said on stderr) when it cannot run here."""
    if runtime == "next":
        next_bin = ROOT / "web" / "node_modules" / ".bin" / "next"
        if not next_bin.exists() or not (ROOT / "web" / ".next" / "BUILD_ID").exists():
            print("serve.py: web/ is not built for next start (run scripts/build.py first)", file=sys.stderr)
            return None
        return [str(next_bin), "start", "--port", str(port), "--hostname", "127.0.0.1"]
    tsx = shutil.which("tsx")
    if tsx is None:
        print("serve.py: tsx is not on PATH (tools/node/node_modules/.bin)", file=sys.stderr)
        return None
    return [tsx, "src/server.ts"]


def sentry_dsn(variable: str) -> dict[str, str]:
    """``{"SENTRY_DSN": <the variable's value>}`` when it is set: the service reports to that Sentry project."""
    dsn = os.environ.get(variable)
    return {"SENTRY_DSN": dsn} if dsn else {}


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60) -> bool:
    """Whether ``process`` accepts connections on 127.0.0.1:``port`` within ``timeout_s`` (False once it exits)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the shop's web and api services for one stage.")
    parser.add_argument("--stage", default="development")
    parser.add_argument("--port", type=int, required=True, help="web port")
    parser.add_argument("--api-port", type=int, required=True)
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument("--release", default=None)
    parser.add_argument("--web", choices=("tsx", "next"), default="tsx", help="run src/server.ts, or the Next.js build")
    args = parser.parse_args()

    args.log_dir.mkdir(parents=True, exist_ok=True)
    commit = current_commit()
    web_argv = web_command(args.web, args.port)
    if web_argv is None:
        return 2
    common = {**os.environ, "SHOP_COMMIT": commit, "SHOP_ENVIRONMENT": args.stage}
    for name in ("SENTRY_DSN", "SHOP_WEB_SENTRY_DSN", "SHOP_API_SENTRY_DSN"):
        common.pop(name, None)
    web_env = {
        **common,
        "PORT": str(args.port),
        "SHOP_SERVICE": "web",
        "SHOP_RELEASE": args.release or f"shop-web@{commit[:12]}",
        "SHOP_LOG_FILE": str(args.log_dir / f"web-{args.stage}.jsonl"),
        "NEXT_TELEMETRY_DISABLED": "1",
        **sentry_dsn("SHOP_WEB_SENTRY_DSN"),
    }
    api_env = {
        **common,
        "SHOP_SERVICE": "api",
        "SHOP_RELEASE": args.release or f"shop-api@{commit[:12]}",
        "SHOP_LOG_FILE": str(args.log_dir / f"api-{args.stage}.jsonl"),
        **sentry_dsn("SHOP_API_SENTRY_DSN"),
    }
    api = subprocess.Popen(
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
    )
    children = [api]

    def stop(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The web service starts once the API answers: the stage's ready URL (web /health) then means both are up.
    if wait_listening(args.api_port, api):
        children.append(subprocess.Popen(web_argv, cwd=ROOT / "web", env=web_env))
    elif api.poll() is None:
        print(f"serve.py: the API does not answer on port {args.api_port}", file=sys.stderr)
        stop(signal.SIGTERM, None)
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
