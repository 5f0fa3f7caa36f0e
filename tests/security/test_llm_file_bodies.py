"""Issue 12, item 5: secrets in ordinary config files never reach the Messages API.

The red team got ``config/database.js``, ``settings.py``, ``secrets/prod.yaml`` and ``app.json``
into the model's context in 4 of 4 trials, and the fixer could read ``.npmrc``. Here the real
``anthropic`` SDK of the investigator and of the fixer talks to the local fake Messages API, the
model asks for each file, and every byte that left the machine is searched for the secrets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import ExceptionInfo, FixStrategy, Frequency, IssueDetected, IssueType, Producer, Severity, TargetConfig
from medic_implementer.adapters.claude import ClaudeFixer
from medic_implementer.domain.guard import PathGuard
from medic_investigator.adapters.llm.claude import ClaudeProvider
from medic_investigator.adapters.llm.section import LlmSection
from medic_investigator.adapters.store import InMemorySpendLedger
from medic_investigator.job.diagnose import run_diagnosis
from medic_stacktrace import parse_trace
from medic_testing.implementer import diagnosis
from medic_testing.investigator.fake_messages_api import FakeMessagesApi, running, text_message, tool_use_message

SETTINGS_PY = '''"""Django-style settings."""
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "PASSWORD": "dj4ngo-db-pw-77",
        "HOST": "db.internal",
    }
}
SECRET_KEY = 'django-insecure-9k3y-v4lu3'
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def database_host(name):
    return DATABASES.get(name)["HOST"]
'''
DATABASE_JS = """module.exports = {
  production: {
    username: 'app',
    password: 'sequelize-pw-5150',
    host: 'db.internal',
    dialect: 'postgres',
  },
  url: "postgres://app:pg-url-pw-2112@db.internal:5432/app",
};
"""
PROD_YAML = """stripe:
  secret: sk_live_51Hzq81abcd9xyz0123
database:
  password: yaml-db-pw-1984
"""
APP_JSON = json.dumps(
    {
        "name": "shop",
        "env": {"SESSION_SECRET": {"description": "signs cookies", "value": "app-json-sess-8086"}, "PORT": {"value": "3000"}},
        "service_account": {
            "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
        },
    },
    indent=2,
)
NPMRC = "//registry.npmjs.org/:_authToken=npm_zq81abcd9xyz0123456789abcdefghijkl\n"

FILES = {
    "settings.py": SETTINGS_PY,
    "config/database.js": DATABASE_JS,
    "secrets/prod.yaml": PROD_YAML,
    "app.json": APP_JSON,
    ".npmrc": NPMRC,
}
SECRETS = {
    "settings.py": ("dj4ngo-db-pw-77", "django-insecure-9k3y-v4lu3", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    "config/database.js": ("sequelize-pw-5150", "pg-url-pw-2112"),
    "secrets/prod.yaml": ("sk_live_51Hzq81abcd9xyz0123", "yaml-db-pw-1984"),
    "app.json": ("app-json-sess-8086", "MIIEvgIBADANBgkqhkiG9w0BAQEFAASC"),
    ".npmrc": ("zq81abcd9xyz0123456789abcdefghijkl",),
}
#: Files no model may read at all; the others are shown redacted.
UNREADABLE = {"secrets/prod.yaml", ".npmrc"}
FINAL = {
    "root_cause": "database_host reads ['HOST'] of a missing database entry.",
    "affected_file": "settings.py",
    "affected_lines": [14, 14],
    "affected_function": "database_host",
    "fix_strategy": "null_guard",
    "fix_hint": "guard the missing entry",
    "confidence": 0.9,
    "fixability": 0.9,
    "estimated_fix_minutes": 5,
    "evidence": [{"kind": "code", "summary": "DATABASES has no replica entry", "source": "settings.py:2"}],
}
TRIAGE = text_message(json.dumps({"code_level": True, "fixability": 0.9, "reason": "lookup", "injection_suspected": False}))


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com"}
    env |= {"GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for name, body in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(body, encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "app with config")
    return repo


def _issue(repo: Path) -> IssueDetected:
    code = "from settings import database_host; database_host('replica')"
    run = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=60, check=False)
    trace = run.stderr.replace(str(repo.resolve()) + "/", "/var/task/")
    kind, _, value = trace.strip().splitlines()[-1].partition(": ")
    return IssueDetected(
        producer=Producer(service="watcher", instance="test"),
        issue_id="iss_cfg",
        target="shop",
        service="web",
        severity=Severity.P2,
        issue_type=IssueType.API_ERROR,
        title=f"{kind}: {value}",
        message=f"{kind}: {value}",
        fingerprint="fp_cfg",
        frequency=Frequency(count=3, window_seconds=300, total=3),
        first_seen=datetime(2026, 11, 20, tzinfo=UTC),
        last_seen=datetime(2026, 11, 20, 0, 5, tzinfo=UTC),
        exception=ExceptionInfo(type=kind, value=value),
        frames=parse_trace(trace).frames,
        raw_trace=trace,
        source="logfile",
    )


def _sent(fake: FakeMessagesApi) -> str:
    return "\n".join(r.raw for r in fake.requests)


def _tool_results(fake: FakeMessagesApi) -> list[dict[str, Any]]:
    results = []
    for request in fake.requests:
        last = request.body["messages"][-1]
        if isinstance(last.get("content"), list):
            results += [json.loads(b["content"]) for b in last["content"] if b.get("type") == "tool_result"]
    return results


@pytest.mark.parametrize("name", sorted(FILES))
async def test_the_investigator_never_sends_a_config_files_secrets(tmp_path: Path, name: str) -> None:
    import anthropic

    repo = _repo(tmp_path)
    calls = [
        ("read_file", {"path": name}),
        ("search_code", {"query": SECRETS[name][0][:8]}),
        ("git_blame", {"path": name, "start_line": 1, "end_line": 9}),
    ]
    script = [TRIAGE, tool_use_message(calls), text_message(json.dumps(FINAL))]
    async with running(script) as fake:
        client = anthropic.AsyncAnthropic(api_key="test-key", base_url=fake.url, max_retries=0, timeout=30.0)
        provider = ClaudeProvider(
            section=LlmSection(provider="claude", base_url=fake.url, max_retries=0),
            api_key="test-key",
            ledger=InMemorySpendLedger(),
            client=client,
        )
        target = TargetConfig.model_validate({"name": "shop", "repo": str(repo), "language": "python", "test_command": "true"})
        await run_diagnosis(_issue(repo), target=target, repo=repo, provider=provider)

    sent = _sent(fake)
    assert len(fake.requests) == 3
    for secret in SECRETS[name]:
        assert secret not in sent, secret
    read = _tool_results(fake)[0]
    if name in UNREADABLE:
        assert read["status"] == "refused"
    else:
        assert read["status"] == "ok" and "[REDACTED:" in json.dumps(read["data"])


@pytest.mark.parametrize("name", sorted(FILES))
async def test_the_fixer_never_sends_a_config_files_secrets(tmp_path: Path, name: str) -> None:
    repo = _repo(tmp_path)
    script = [tool_use_message([("read_file", {"path": name})]), text_message("nothing to change")]
    async with running(script) as fake:
        fixer = ClaudeFixer(api_key="sk-test", base_url=fake.url, max_steps=3)
        diag = diagnosis(affected_file="settings.py", lines=(14, 14), title="TypeError", strategy=FixStrategy.LLM_EDIT)

        async def no_tests() -> Any:
            raise AssertionError("the model did not ask for a test run")

        proposed = await fixer.propose(
            diagnosis=diag, workspace=repo, guard=PathGuard(root=repo), run_tests=no_tests, audit=lambda *a: None
        )

    assert proposed is None
    sent = _sent(fake)
    assert len(fake.requests) == 2
    # The brief carries settings.py (the affected file) redacted; the tool result carries the asked file.
    for secret in (*SECRETS[name], *SECRETS["settings.py"]):
        assert secret not in sent, secret
    read = _tool_results(fake)[0]
    if name in UNREADABLE:
        assert read["status"] == "error" and "not readable" in read["error"]
    else:
        assert read["status"] == "ok" and "[REDACTED:" in read["data"]
    assert "Contents of settings.py" in fake.requests[0].body["messages"][0]["content"]
