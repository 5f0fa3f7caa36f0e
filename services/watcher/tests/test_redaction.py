"""Planted secrets and personal data never reach a published event."""

from __future__ import annotations

from datetime import UTC, datetime

from medic_contracts import MedicConfig, Producer, TargetConfig
from medic_watcher.domain.normalize import Normaliser
from medic_watcher.domain.templates import TemplateMiner
from medic_watcher.job.detect import detect_from_sentry_events, detect_observed

NOW = datetime(2026, 1, 1, tzinfo=UTC)
AWS = "AKIAIOSFODNN7EXAMPLE"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
BEARER = "Bearer abcdef0123456789abcdef"
URL_PASSWORD = "postgres://admin:hunter2secret@db.internal:5432/app"
EMAIL = "jane.doe@example.com"
PLANTED = [AWS, JWT, "abcdef0123456789abcdef", "hunter2secret", EMAIL, "s3cr3t-pass"]


def assert_clean(text: str) -> None:
    for secret in PLANTED:
        assert secret not in text, secret


def test_secrets_in_a_sentry_event_never_appear_in_the_issue(target: TargetConfig) -> None:
    event = {
        "event_id": "a" * 32,
        "platform": "node",
        "level": "error",
        "message": f"login failed for {EMAIL} with {BEARER}",
        "exception": {
            "values": [
                {
                    "type": "Error",
                    "value": f"connect {URL_PASSWORD} failed; key {AWS}; token {JWT}",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "src/db.ts",
                                "function": "connect",
                                "lineno": 3,
                                "context_line": f"const url = '{URL_PASSWORD}'",
                                "vars": {"password": "s3cr3t-pass", "email": EMAIL, "token": JWT},
                            }
                        ]
                    },
                }
            ]
        },
        "request": {
            "url": f"https://shop.example.com/api/login?password=s3cr3t-pass&email={EMAIL}",
            "method": "POST",
            "headers": {"Authorization": BEARER, "User-Agent": f"curl {AWS}"},
            "data": {"password": "s3cr3t-pass", "email": EMAIL},
        },
        "user": {"id": "42", "email": EMAIL},
        "tags": {"session": JWT},
    }
    (issue,) = detect_from_sentry_events([event], target=target)
    assert_clean(issue.model_dump_json())


def test_secrets_in_log_lines_never_appear_in_the_issue() -> None:
    record = {
        "ts": NOW.isoformat(),
        "level": "error",
        "msg": f"upstream call with Authorization: {BEARER} failed for {EMAIL} key={AWS}",
        "error": {
            "type": "Error",
            "message": f"jwt {JWT} rejected",
            "stack": f"Error: jwt {JWT}\n    at call (/app/src/x.ts:1:2)",
        },
        "path": "/api/login?password=s3cr3t-pass",
        "status": 500,
        "user_id": EMAIL,
    }
    observed = [Normaliser().log_record(record, service="web", now=NOW)]
    _, published = detect_observed(
        observed,
        target="shop",
        states={},
        config=MedicConfig(),
        miner=TemplateMiner(),
        producer=Producer(service="watcher", instance="t"),
        now=NOW,
    )
    assert published
    for issue in published:
        assert_clean(issue.model_dump_json())


def test_an_application_header_is_kept_for_the_replay_and_credentials_and_addresses_are_not(target: TargetConfig) -> None:
    event = {
        "event_id": "b" * 32,
        "platform": "node",
        "level": "error",
        "exception": {"values": [{"type": "TypeError", "value": "Cannot read properties of undefined (reading 'url')"}]},
        "request": {
            "url": "https://community.example/api/me/avatar",
            "method": "GET",
            "headers": {
                "User-Agent": "Mozilla/5.0",
                "X-User-Id": "usr_2",
                "X-Tenant": "acme",
                "Authorization": BEARER,
                "Cookie": f"sid={JWT}",
                "X-Api-Key": AWS,
                "X-Auth-Token": JWT,
                "X-CSRF-Token": "abcdef0123456789abcdef",
                "X-Forwarded-For": "203.0.113.10",
                "X-Real-IP": "203.0.113.10",
                "X-Note": f"mail {EMAIL}",
            },
        },
    }
    (issue,) = detect_from_sentry_events([event], target=target)
    assert issue.request is not None
    headers = issue.request.headers
    assert headers["x-user-id"] == "usr_2"
    assert headers["x-tenant"] == "acme"
    assert headers["user-agent"] == "Mozilla/5.0"
    assert not {"authorization", "cookie", "x-api-key", "x-auth-token", "x-csrf-token"} & set(headers)
    assert not {"x-forwarded-for", "x-real-ip"} & set(headers)
    assert EMAIL not in headers["x-note"]  # a kept header's value is redacted like any other text
    assert_clean(issue.model_dump_json())
