"""The official Sentry SDKs as real clients: small programs that report one exception to a DSN.

``python_client`` runs PyPI ``sentry-sdk`` in a subprocess of this venv; ``node_client`` runs npm
``@sentry/node`` (installed under ``tools/node`` by ``scripts/install-node-tools.sh``). Both flush before
they exit and fail the test if they cannot deliver.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from medic_runtime.aio import bounded

__all__ = ["NODE_CLIENT", "NODE_MODULES", "PYTHON_CLIENT", "node_available", "run_node_client", "run_python_client"]

ROOT = Path(__file__).resolve().parents[5]
NODE_MODULES = ROOT / "tools" / "node" / "node_modules"

#: Reports ZeroDivisionError from ``launch`` as user-7 (with an e-mail address the watcher must redact).
PYTHON_CLIENT = """
import sys
import sentry_sdk

sentry_sdk.init(dsn=sys.argv[1], default_integrations=False, release="shop@1.4.2", environment="production")
sentry_sdk.set_user({"id": "user-7", "email": "ada@example.com"})


def launch(campaign):
    return campaign["budget"] / campaign["days"]


try:
    launch({"budget": 10, "days": 0})
except ZeroDivisionError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=20)
"""

#: Reports a TypeError from ``loadCart`` as user-9.
NODE_CLIENT = """
const Sentry = require("@sentry/node");
Sentry.init({ dsn: process.argv[2], defaultIntegrations: false, release: "shop@2.0.0", environment: "production" });
Sentry.setUser({ id: "user-9" });
function loadCart(cart) { return cart.items.length; }
try { loadCart(undefined); } catch (err) { Sentry.captureException(err); }
Sentry.flush(20000).then((ok) => process.exit(ok ? 0 : 3));
"""


async def _run(argv: list[str], *, env: dict[str, str] | None = None) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    out, _ = await bounded(proc.communicate(), timeout=600)
    assert proc.returncode == 0, out.decode(errors="replace")


async def run_python_client(dsn: str) -> None:
    """Report :data:`PYTHON_CLIENT`'s exception to ``dsn`` with the real ``sentry-sdk``."""
    await _run([sys.executable, "-c", PYTHON_CLIENT, dsn])


def node_available() -> bool:
    """True when ``node`` is on PATH (the SDK itself is installed on first use)."""
    return shutil.which("node") is not None


async def run_node_client(dsn: str, workdir: Path) -> None:
    """Report :data:`NODE_CLIENT`'s exception to ``dsn`` with the real ``@sentry/node``."""
    if not (NODE_MODULES / "@sentry" / "node").is_dir():
        await _run(["bash", str(ROOT / "scripts" / "install-node-tools.sh")])
    script = workdir / "sentry-client.cjs"
    script.write_text(NODE_CLIENT)
    await _run(["node", str(script), dsn], env={"NODE_PATH": str(NODE_MODULES)})
