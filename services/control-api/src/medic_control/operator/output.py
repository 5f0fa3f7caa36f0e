"""What every operator command shares: the REST client, printing, and API errors turned into exit status 1."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import httpx

from ..client import ApiError, ClientConfig, ControlClient

__all__ = ["emit", "open_client", "run_client"]


def open_client() -> ControlClient:
    """A REST client configured from MEDIC_API_URL, MEDIC_TOKEN or the CLI config file."""
    return ControlClient(ClientConfig.load())


def emit(data: Any, *, as_json: bool, text: str, out: TextIO | None = None) -> None:
    """Print ``data`` as JSON (``--json``) or ``text`` for a human."""
    stream = out or sys.stdout
    stream.write((json.dumps(data, indent=2, default=str) if as_json else text) + "\n")


def run_client(fn: Any) -> int:
    """Run a command's body; an API refusal or an unreachable control-api is printed and exits 1."""
    try:
        return int(fn())
    except ApiError as exc:
        sys.stderr.write(f"medic: {exc.message} ({exc.status})\n")
        return 1
    except (OSError, httpx.TransportError) as exc:  # connection refused, DNS, timeouts: say where we tried
        sys.stderr.write(f"medic: cannot reach control-api at {ClientConfig.load().api_url}: {exc}\n")
        return 1
