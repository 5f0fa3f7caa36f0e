"""`medic pause` / `resume` / `status` stay light: the interpreter, httpx and the small control-api client only.

Each test runs the real CLI in a fresh interpreter against a real HTTP server that answers like
control-api, then lists which heavy packages the process had imported by the time it finished.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

#: Packages that cost seconds to import on a loaded machine and that none of these commands needs.
HEAVY = ("anthropic", "faststream", "sqlalchemy", "aiokafka", "pydantic", "fastapi", "click", "rich", "medic_releaser")

PROBE = """
import json, sys
from medic.main import main
code = main(sys.argv[1:])
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(__HEAVY__)))
sys.stderr.write("HEAVY=" + json.dumps(heavy) + "\\n")
sys.exit(code)
"""


class FakeControlApi(BaseHTTPRequestHandler):
    """Answers the three calls the commands make, and remembers what it was asked."""

    calls: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []

    def _reply(self, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.calls.append(("POST", self.path, json.loads(self.rfile.read(length) or b"{}")))
        self._reply({"event_id": "evt_1", "paused": self.path.endswith("/pause")})

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path, {}))
        if self.path.startswith("/api/v1/approvals"):
            self._reply({"items": [], "next_cursor": None})  # a page, like every list
        else:
            self._reply({"paused": False, "reason": "", "config": {"autonomy_level": 1, "version": 3, "active": True}})

    def log_message(self, *_args: Any) -> None:
        return None


@pytest.fixture
def api() -> Iterator[str]:
    FakeControlApi.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeControlApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_cli(api: str, *argv: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    env = {"MEDIC_API_URL": api, "MEDIC_TOKEN": "mdc_test", "PATH": "/usr/bin:/bin", "MEDIC_CLI_CONFIG": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.replace("__HEAVY__", repr(json.dumps(HEAVY))), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    marker = [line for line in done.stderr.splitlines() if line.startswith("HEAVY=")]
    assert marker, done.stderr
    return done, json.loads(marker[-1].removeprefix("HEAVY="))


@pytest.mark.parametrize("command", ["pause", "resume"])
def test_pause_and_resume_send_their_command_without_importing_heavy_packages(api: str, command: str) -> None:
    done, heavy = run_cli(api, command, "--reason", "incident")
    assert done.returncode == 0, done.stderr
    assert "(event evt_1)" in done.stdout
    assert FakeControlApi.calls == [("POST", f"/api/v1/control/{command}", {"reason": "incident"})]
    assert heavy == [], f"`medic {command}` imported {heavy}"


def test_status_reads_the_state_without_importing_heavy_packages(api: str) -> None:
    done, heavy = run_cli(api, "status")
    assert done.returncode == 0, done.stderr
    assert "mode: running" in done.stdout and "config version: 3" in done.stdout
    assert heavy == [], f"`medic status` imported {heavy}"
