"""Planted secrets and personal data never survive redaction."""

from __future__ import annotations

import json

import pytest

from medic_runtime import Redactor

SECRETS = {
    "aws access key": "AKIAIOSFODNN7EXAMPLE",
    "aws secret": "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer": "Authorization: Bearer abc123def456ghi789",
    "password url": "postgres://admin:hunter2@db.internal:5432/app",
    "email": "contact jane.doe@example.com now",
    "github": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "anthropic": "sk-ant-api03-abcdefghijklmnop",
    "stripe": "sk_live_51H8abcdefghijklmnop",
    "slack": "xoxb-123456789012-abcdefghijkl",
    "password assignment": "login failed password=SuperSecret99 for user",
    "private key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "card": "card 4111 1111 1111 1111 declined",
}
PLAIN = {
    "aws access key": "AKIAIOSFODNN7EXAMPLE",
    "aws secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "jwt": "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer": "abc123def456ghi789",
    "password url": "hunter2",
    "email": "jane.doe@example.com",
    "github": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "anthropic": "sk-ant-api03-abcdefghijklmnop",
    "stripe": "sk_live_51H8abcdefghijklmnop",
    "slack": "xoxb-123456789012-abcdefghijkl",
    "password assignment": "SuperSecret99",
    "private key": "MIIEowIBAAKCAQEA",
    "card": "4111 1111 1111 1111",
}


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_planted_secret_is_removed_and_named(name: str) -> None:
    out = Redactor().text(SECRETS[name])
    assert PLAIN[name] not in out
    assert "[REDACTED:" in out


def test_ordinary_text_and_numbers_survive() -> None:
    text = "GET /api/practices/42 returned 500 after 812 ms (order 1234567)"
    assert Redactor().text(text) == text


def test_nested_values_and_sensitive_keys_are_redacted() -> None:
    value = {
        "headers": {"Authorization": "Basic dXNlcjpwYXNz", "x-request-id": "r1"},
        "vars": [{"password": "x"}, "mail bob@example.org"],
        "count": 3,
    }
    out = Redactor().value(value)
    assert out["headers"]["Authorization"] == "[REDACTED:sensitive_key]"
    assert out["headers"]["x-request-id"] == "r1"
    assert out["vars"][0]["password"] == "[REDACTED:sensitive_key]"
    assert "bob@example.org" not in out["vars"][1]
    assert out["count"] == 3


def test_very_long_text_is_truncated_after_redaction() -> None:
    out = Redactor(max_length=100).text("a" * 10_000 + " jane@example.com")
    assert len(out) < 200 and "truncated" in out


def test_configured_literal_secrets_are_removed() -> None:
    assert "s3cr3t-value" not in Redactor(extra_literals=("s3cr3t-value",)).text("token s3cr3t-value leaked")


def test_a_flat_mapping_keeps_structured_values_as_json_after_redaction() -> None:
    r = Redactor()
    flat = r.mapping({"pages": [{"path": "/faq", "priority": 0.4}], "token": "abc", "count": 3, "missing": None})
    assert json.loads(flat["pages"]) == [{"path": "/faq", "priority": 0.4}]  # a JavaScript frame variable, read back
    assert flat["count"] == "3" and flat["missing"] == "null"
    secret = r.mapping({"user": {"email": "ada@example.com"}})["user"]
    assert "ada@example.com" not in secret and json.loads(secret)["email"]
