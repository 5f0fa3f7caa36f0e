"""The investigator process with a ``[database]`` section, on a real broker and the real PostgreSQL: database
queries the model makes are audited as ActionRecorded; a slow-query issue becomes an index proposal and an
ApprovalRequested."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    ApprovalRequested,
    ConfigError,
    DiagnosisReady,
    FixStrategy,
    TopicName,
    TopicRegistry,
)
from medic_investigator.app import build
from medic_investigator.settings import InvestigatorSettings
from medic_runtime import ServiceSettings
from medic_testing.investigator.fake_messages_api import running, text_message, tool_use_message

from .dbfixtures import AppSchema, app_schema
from .test_claude import FINAL, TRIAGE_OK
from .test_service import _forge_and_clone, _issue, _publish, _read
from .test_slow_queries import slow_issue

pytestmark = pytest.mark.kafka


@pytest.fixture
async def app(postgres_url: str) -> AsyncIterator[AppSchema]:
    async with app_schema(postgres_url) as schema:
        conn = await asyncpg.connect(schema.dsn)
        try:
            await conn.execute(
                f"CREATE TABLE {schema.schema}.orders AS SELECT g AS id, 'c' || g || '@example.com' AS customer_email "
                f"FROM generate_series(1, 5000) g; ANALYZE {schema.schema}.orders"
            )
        finally:
            await conn.close()
        yield schema


def _toml(tmp_path: Path, clone: Path, llm: str, app: AppSchema) -> Path:
    path = tmp_path / "medic.toml"
    path.write_text(
        f"""
[target]
name = "shop"
repo = "{clone}"
language = "python"
test_command = "pytest -q"

[llm]
{llm}

[database]
dsn_env = "MEDIC_TEST_APP_DSN"
schema = "{app.schema}"
allowed_tables = ["users", "practices", "orders"]
row_limit = 10
statement_timeout_ms = 1000
""",
        encoding="utf-8",
    )
    return path


async def test_database_queries_are_audited_and_a_slow_query_waits_for_approval(
    service_settings: Callable[..., ServiceSettings],
    topics: TopicRegistry,
    kafka_bootstrap: str,
    tmp_path: Path,
    app: AppSchema,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDIC_TEST_APP_DSN", app.dsn)
    clone, bug_sha = _forge_and_clone(tmp_path)
    from .helpers import make_repo
    from .test_playbook_python import DB, ROUTES_BUGGY

    trace_repo, _ = make_repo(tmp_path / "trace", {**DB, "app/routes.py": ROUTES_BUGGY})
    issue = _issue(trace_repo, bug_sha)
    script = [
        TRIAGE_OK,
        tool_use_message(
            [
                ("query_database", {"sql": "SELECT id, email FROM users WHERE id = 1"}),
                ("query_database", {"sql": "UPDATE users SET name = 'x' WHERE id = 1"}),
                ("query_database", {"sql": "SELECT * FROM pg_catalog.pg_shadow"}),
            ]
        ),
        text_message(json.dumps(FINAL)),
    ]
    async with running(script) as fake:
        toml = _toml(tmp_path, clone, f'provider = "claude"\nbase_url = "{fake.url}"\nmax_retries = 0', app)
        settings = service_settings(
            "investigator", cls=InvestigatorSettings, targets=str(toml), workdir=tmp_path / "work", anthropic_api_key="test-key"
        )
        runtime = build(settings)  # type: ignore[arg-type]
        await runtime.start()
        try:
            await _publish(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), issue)
            slow = slow_issue(f"SELECT id FROM {app.schema}.orders WHERE customer_email = $1")
            await _publish(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), slow)
            diagnoses = await _read(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), lambda es: len(es) >= 2)
            actions = await _read(
                kafka_bootstrap,
                topics.name(TopicName.ACTIONS),
                lambda es: (
                    sum(isinstance(e, ApprovalRequested) for e in es) >= 1
                    and sum(isinstance(e, ActionRecorded) and e.action == "investigator.query_database" for e in es) >= 3
                ),
            )
        finally:
            await runtime.stop()
    audited = [e for e in actions if isinstance(e, ActionRecorded) and e.action == "investigator.query_database"]
    assert sorted(e.status.value for e in audited) == ["refused", "refused", "succeeded"]
    refused = {e.details["sql"]: e.summary for e in audited if e.status is ActionStatus.REFUSED}
    assert "UPDATE" in next(k for k in refused if k.startswith("UPDATE"))
    assert any("pg_shadow" in k and "allow-list" in v for k, v in refused.items())
    assert all(e.issue_id == issue.issue_id for e in audited)
    by_issue = {d.issue_id: d for d in diagnoses if isinstance(d, DiagnosisReady)}
    proposal = by_issue["iss_slow"]
    assert proposal.fix_strategy is FixStrategy.INDEX_PROPOSAL and proposal.needs_human
    approval = next(e for e in actions if isinstance(e, ApprovalRequested))
    assert approval.issue_id == "iss_slow" and approval.causation_id == proposal.event_id
    assert f"on {app.schema}.orders (customer_email)" in approval.diff


def test_a_database_section_without_its_variable_stops_start_up_naming_the_field(
    tmp_path: Path, service_settings: Callable[..., ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIC_TEST_APP_DSN", raising=False)
    toml = _toml(tmp_path, tmp_path, 'provider = "playbook"', AppSchema(dsn="", schema="public"))
    settings = service_settings("investigator", cls=InvestigatorSettings, targets=str(toml))
    with pytest.raises(ConfigError, match=r"database\.dsn_env: \$MEDIC_TEST_APP_DSN is not set"):
        build(settings)  # type: ignore[arg-type]
    toml.write_text(toml.read_text().replace('allowed_tables = ["users", "practices", "orders"]', "allowed_tables = []"))
    with pytest.raises(ConfigError, match=r"database\.allowed_tables"):
        build(settings)  # type: ignore[arg-type]
