"""The `medic` CLI as a client of control-api over real HTTP: status, pause, resume, approvals, approve, issues, token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medic.main import main as medic

from .conftest import ControlHarness, approval_request, control_server, lifecycle

pytestmark = pytest.mark.kafka

ADMIN = "mdc_cli_admin_" + "c" * 30


@pytest.fixture
def served(kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ControlHarness]]:
    monkeypatch.setenv("MEDIC_CLI_CONFIG", str(tmp_path / "none.toml"))
    with control_server(kafka_bootstrap, tmp_path, admin_token=ADMIN) as (url, control):
        yield url, control


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = medic(list(argv))
    out = capsys.readouterr()
    try:
        return code, json.loads(out.out), out.err
    except json.JSONDecodeError:
        return code, out.out, out.err


def seed_over_http(url: str, events: list[Any]) -> None:
    import httpx

    for event in events:
        httpx.post(
            f"{url}/api/v1/events", json=event.model_dump(mode="json"), headers={"Authorization": f"Bearer {ADMIN}"}
        ).raise_for_status()


def test_an_operator_drives_medic_from_the_terminal(
    served: tuple[str, ControlHarness], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = served
    monkeypatch.setenv("MEDIC_API_URL", url)
    monkeypatch.setenv("MEDIC_TOKEN", ADMIN)
    code, token, _ = run(capsys, "token", "create", "--role", "operator", "--name", "carol", "--json")
    assert code == 0 and token["role"] == "operator" and token["token"].startswith("mdc_")
    monkeypatch.setenv("MEDIC_TOKEN", token["token"])

    code, status, _ = run(capsys, "status", "--json")
    assert code == 0 and status["paused"] is False and status["pending_approvals"] == 0
    assert run(capsys, "pause", "--reason", "db failover", "--json")[1]["paused"] is True
    code, text, _ = run(capsys, "status")
    assert code == 0 and "PAUSED (db failover)" in text and "autonomy level: 2" in text
    assert run(capsys, "resume", "--json")[1]["paused"] is False

    request = approval_request("iss_cli")
    seed_over_http(url, [*lifecycle("iss_cli")[:3], request])
    code, listed, _ = run(capsys, "approvals", "--json")
    assert code == 0 and [a["id"] for a in listed] == [request.approval_id]
    code, _, err = run(capsys, "approve", request.approval_id, "--diff-hash", "sha256:" + "0" * 64)
    assert code == 1 and "diff hash does not match" in err
    code, approved, _ = run(capsys, "approve", request.approval_id, "--yes", "--reason", "ok", "--json")
    assert code == 0 and approved["status"] == "approved" and approved["decided_by"] == "carol"
    code, _, err = run(capsys, "approve", request.approval_id, "--yes")
    assert code == 1 and "already approved" in err

    code, text, _ = run(capsys, "issues")
    assert code == 0 and "iss_cli" in text and "awaiting_approval" in text
    code, detail, _ = run(capsys, "issues", "iss_cli", "--json")
    assert code == 0 and [a["action"] for a in detail["timeline"]][:3] == [
        "issue.detected",
        "investigator.diagnose",
        "diagnosis.ready",
    ]


def test_the_cli_says_why_without_a_valid_token_or_server(
    served: tuple[str, ControlHarness], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = served
    monkeypatch.setenv("MEDIC_API_URL", url)
    monkeypatch.setenv("MEDIC_TOKEN", "mdc_wrong_" + "x" * 30)
    code, _, err = run(capsys, "status")
    assert code == 1 and "invalid or expired token (401)" in err
    monkeypatch.setenv("MEDIC_API_URL", "http://127.0.0.1:9")
    code, _, err = run(capsys, "pause")
    assert code == 1 and "cannot reach control-api" in err


def test_token_create_writes_straight_into_a_store_and_the_config_file_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from medic_control.auth import service as tokens
    from medic_control.client import ClientConfig
    from medic_control.db import open_engine

    monkeypatch.delenv("MEDIC_API_URL", raising=False)
    monkeypatch.delenv("MEDIC_TOKEN", raising=False)
    monkeypatch.setenv("MEDIC_CLI_CONFIG", str(tmp_path / "cli.toml"))
    store = f"sqlite+aiosqlite:///{tmp_path / 'medic.db'}"
    code, created, _ = run(capsys, "token", "create", "--role", "admin", "--name", "root", "--database-url", store, "--json")
    assert code == 0 and created["name"] == "root"
    code, _, err = run(capsys, "token", "create", "--role", "admin", "--name", "root", "--database-url", store)
    assert code == 1 and "already exists" in err

    async def check() -> Any:
        engine, _ = open_engine(store)
        try:
            async with engine.connect() as conn:
                return await tokens.authenticate(conn, created["token"])
        finally:
            await engine.dispose()

    principal = asyncio.run(check())
    assert principal is not None and principal.identity == "root" and principal.role.label == "admin"
    (tmp_path / "cli.toml").write_text(f'api_url = "http://127.0.0.1:1234/"\ntoken = "{created["token"]}"\n')
    config = ClientConfig.load()
    assert config.api_url == "http://127.0.0.1:1234" and config.token == created["token"]


def test_an_operator_marks_a_false_positive_and_reads_the_weekly_review_from_the_terminal(
    served: tuple[str, ControlHarness], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = served
    monkeypatch.setenv("MEDIC_API_URL", url)
    monkeypatch.setenv("MEDIC_TOKEN", ADMIN)
    seed_over_http(url, lifecycle("iss_week")[:1])
    code, accepted, _ = run(capsys, "false-positive", "iss_week", "--reason", "synthetic check", "--json")
    assert code == 0 and accepted["command"] == "feedback" and accepted["issue_id"] == "iss_week"
    code, text, _ = run(capsys, "review", "--send")
    assert code == 0 and "targets met" in text and "sent to: no channel configured" in text
    assert "False-positive detections (marked by humans)" in text and "100.0% (1 of 1)" in text and "MISSED" in text
    code, week, _ = run(capsys, "review", "--json")
    assert code == 0 and next(m for m in week["metrics"] if m["name"] == "false_positive_rate")["value"] == 1.0


def test_an_auditor_saves_a_signed_checkpoint_and_verifies_the_trail_against_it_through_the_api(
    kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from medic_control.actions.keys import load_or_create_signing_key

    monkeypatch.setenv("MEDIC_CLI_CONFIG", str(tmp_path / "none.toml"))
    key_file = tmp_path / "audit-key.pem"
    with control_server(kafka_bootstrap, tmp_path, admin_token=ADMIN, audit_signing_key_file=key_file) as (url, _):
        monkeypatch.setenv("MEDIC_API_URL", url)
        monkeypatch.setenv("MEDIC_TOKEN", ADMIN)
        seed_over_http(url, lifecycle("iss_audit")[:3])
        saved = tmp_path / "checkpoints.jsonl"
        code, checkpoint, _ = run(capsys, "audit", "checkpoint", "--out", str(saved), "--json")
        assert code == 0 and checkpoint["tree_size"] >= 3
        assert json.loads(saved.read_text()) == checkpoint
        code, report, _ = run(capsys, "audit", "verify", "--checkpoint", str(saved), "--public-key", str(key_file), "--json")
        assert code == 0 and report["ok"] and report["tree_size"] >= checkpoint["tree_size"]

        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps({**checkpoint, "tree_size": checkpoint["tree_size"] - 1}))
        code, report, _ = run(capsys, "audit", "verify", "--checkpoint", str(forged), "--json")
        assert code == 1 and "bad_signature" in report["problem"]  # refused by the server's key too

        other = tmp_path / "other.pem"
        load_or_create_signing_key(other)
        code, _, err = run(capsys, "audit", "verify", "--checkpoint", str(saved), "--public-key", str(other))
        assert code == 1 and "signed_by_another_key" in err
