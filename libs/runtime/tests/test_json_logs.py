"""With ``MEDIC_LOG_FORMAT=json`` every line a service writes is one JSON object: FastStream's and uvicorn's
lines included (FastStream installs coloured handlers of its own at import), and no ANSI escape codes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

_PROBE = textwrap.dedent(
    """
    import logging
    from medic_runtime.observability import configure_logging
    configure_logging(service="probe", instance="probe-1", level="INFO", fmt="json")
    from medic_runtime.bus import build_broker  # imports FastStream after logging is configured, too
    import faststream.kafka
    for name in ("faststream", "faststream.access.kafka", "uvicorn", "uvicorn.error", "medic.probe"):
        logging.getLogger(name).warning("line from %s", name)
    """
)


def _json_lines(text: str) -> list[dict[str, object]]:
    assert "\x1b[" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return parsed


def test_faststream_and_uvicorn_lines_come_out_as_json_without_colour_codes() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True)
    out = _json_lines(done.stdout + done.stderr)
    assert {entry["logger"] for entry in out} == {
        "faststream",
        "faststream.access.kafka",
        "uvicorn",
        "uvicorn.error",
        "medic.probe",
    }
    assert all(entry["service"] == "probe" and entry["level"] == "warning" for entry in out)


def test_a_running_service_writes_only_json_lines(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> None:
    env = {**test_env(kafka_bootstrap, topic_prefix, tmp_path), "MEDIC_LOG_FORMAT": "json", "MEDIC_LOG_LEVEL": "DEBUG"}
    service = ServiceProcess.module(
        "echo", "medic_testing.runtime.echo", env={**env, "MEDIC_DATA_DIR": str(tmp_path / "echo")}, log_dir=tmp_path
    )
    with service:
        service.wait_healthy(timeout=90)
    out = _json_lines(service.log_path.read_text())
    assert out and all(entry["service"] == "echo" for entry in out)
    assert any(str(entry["logger"]).startswith(("aiokafka", "faststream", "uvicorn")) for entry in out), "library lines too"


def test_the_recent_log_buffer_is_bounded_in_lines_and_line_length() -> None:
    import logging

    from medic_runtime.observability import RecentLogs

    buffer = RecentLogs(capacity=50, max_line=100)
    log = logging.getLogger("medic.test.buffer")
    log.addHandler(buffer)
    log.propagate = False
    try:
        for i in range(500):
            log.warning("line %d %s", i, "x" * 1000)
        log.error("boom", exc_info=ValueError("bad input"))
    finally:
        log.removeHandler(buffer)
    lines = buffer.tail(1000)
    assert len(lines) == 50 and all(len(line["msg"]) <= 100 for line in lines)
    assert lines[-1]["level"] == "error" and buffer.tail(1, "error")[0]["msg"].startswith("boom")
    assert buffer.tail(1000, "error") == [lines[-1]]
