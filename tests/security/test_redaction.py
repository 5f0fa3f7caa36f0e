"""Issue 12, item 5: every secret shape the red team planted is removed, and a marker says so.

Each case is ``(text as it appears in a log, event or file, the secret value inside it)``. The
secret must be absent from the redacted text and a ``[REDACTED:`` marker must remain. The shapes
are the 24 that leaked on main plus the ones that already held, and more of each family.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from medic_runtime import Redactor
from medic_runtime.redaction import iban_ok, luhn_ok, path_unreadable
from medic_watcher.domain.normalize import Normaliser

A40 = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----"
PGP = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0dGvkBCADo8pqQqgkqkYkPqs\n=ab12\n-----END PGP PRIVATE KEY BLOCK-----"

SHAPES: dict[str, tuple[str, str]] = {
    # ---- quoting styles of a named secret -------------------------------------------------------
    "k=v": ("login failed password=Hunter2x for bob", "Hunter2x"),
    "k: v": ("password: Hunter2x", "Hunter2x"),
    "json double quotes": ('{"password": "Hunter2x", "user": "bob"}', "Hunter2x"),
    "python single quotes": ("{'password': 'Hunter2x', 'user': 'bob'}", "Hunter2x"),
    "kwarg single quotes": ("connect(host='db', password='Hunter2x')", "Hunter2x"),
    "js object": ("const cfg = { password: 'Hunter2x', port: 5432 }", "Hunter2x"),
    "repr inside a string": ("\"{'password': 'Hunter2x'}\"", "Hunter2x"),
    "escaped json": ('{"body": "{\\"password\\": \\"Hunter2x\\"}"}', "Hunter2x"),
    "backticks": ("const secret = `Hunter2x`", "Hunter2x"),
    "arrow separator": ("{ :password => 'Hunter2x' }", "Hunter2x"),
    "walrus separator": ("API_KEY := 'zq81abcd9x'", "zq81abcd9x"),
    "one-char value": ("password='x'", "password='x'"),
    "pass=": ("redis AUTH failed pass=Hunter2x", "Hunter2x"),
    "db_pass env": ("DB_PASS=Hunter2x", "Hunter2x"),
    "upper case constant": ('DATABASE_PASSWORD = "Hunter2x"', "Hunter2x"),
    "yaml value": ("db:\n  password: Hunter2x\n  host: db", "Hunter2x"),
    "yaml block scalar": ("client_secret: |\n  Hunter2xLine1\n  Hunter2xLine2\nport: 1", "Hunter2xLine2"),
    "value on the next line": ('"api_key":\n    "zq81abcd9xyz"', "zq81abcd9xyz"),
    "comparison in code": ("if token == 'zq81abcd9xyz':", "zq81abcd9xyz"),
    "secret key camel case": ('clientSecret: "zq81abcd9xyz"', "zq81abcd9xyz"),
    "session id": ("sessionId=s%3Azq81abcd9xyz.sig", "zq81abcd9xyz"),
    "card field": ('"cardNumber": "1234"', '"1234"'),
    # ---- URLs, headers, cookies -----------------------------------------------------------------
    "query pair": ("GET /login?user=bob&password=Hunter2x&next=/", "Hunter2x"),
    "query token first": ("https://api.example.com/v1?access_token=zq81abcd9xyz", "zq81abcd9xyz"),
    "referer oauth code": ("referer: https://app.example.com/callback?code=4/0AbCdEfGh&scope=email", "4/0AbCdEfGh"),
    "oauth state in query": ("/cb?state=zq81abcd9xyz&x=1", "zq81abcd9xyz"),
    "query pair after harmless url key": ("author: https://x.example.com/?token=zq81abcd9xyz", "zq81abcd9xyz"),
    "sentry query_string pairs": ('[["token", "zq81abcd9xyz"], ["page", "2"]]', "zq81abcd9xyz"),
    "sentry query_string code pair": ("[['code', 'zq81abcd9xyz']]", "zq81abcd9xyz"),
    "cookie header": ("Cookie: connect.sid=zq81abcd9xyz; theme=dark", "zq81abcd9xyz"),
    "set-cookie header": ("Set-Cookie: session=zq81abcd9xyz; Path=/; HttpOnly", "zq81abcd9xyz"),
    "authorization bearer": ("Authorization: Bearer zq81abcd9xyz0123", "zq81abcd9xyz0123"),
    "authorization basic": ("authorization: Basic dXNlcjpIdW50ZXIyeA==", "dXNlcjpIdW50ZXIyeA=="),
    "x-api-key header": ("X-Api-Key: zq81abcd9xyz", "zq81abcd9xyz"),
    "url userinfo": ("postgres://admin:Hunter2x@db.internal:5432/app", "Hunter2x"),
    "redis empty user": ("connect redis://:Hunter2x@cache:6379/0 refused", "Hunter2x"),
    "amqp userinfo": ("amqps://svc:Hunter2x@mq.internal/vhost", "Hunter2x"),
    "token-only userinfo": ("https://ghs_zq81abcd9xyz0123456789abcdefghij@github.com/o/r.git", "zq81abcd9xyz"),
    # ---- token shapes -------------------------------------------------------------------------
    "aws access key": ("key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    "aws secret": (f"aws_secret_access_key={A40}", A40),
    "jwt": (
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    "anthropic": ("sk-ant-api03-zq81abcd9xyz0123456789", "zq81abcd9xyz0123456789"),
    "openai project": ("sk-proj-zq81abcd9xyz0123456789abcdef", "zq81abcd9xyz0123456789abcdef"),
    "github classic": ("ghp_zq81abcd9xyz0123456789abcdefghijkl", "ghp_zq81abcd9xyz0123456789abcdefghijkl"),
    "github fine grained": ("github_pat_11AAAAAAA0zq81abcd9xyz0123456789abcdef", "zq81abcd9xyz0123456789abcdef"),
    "gitlab pat": ("glpat-zq81abcd9xyz01234567", "zq81abcd9xyz01234567"),
    "slack bot": ("xoxb-123456789012-1234567890123-zq81abcd9xyz", "zq81abcd9xyz"),
    "slack app token": ("xapp-1-A01234567-1234567890123-zq81abcd9xyz0123", "zq81abcd9xyz0123"),
    "slack webhook": ("https://hooks.slack.com/services/T000/B000/zq81abcd9xyz", "zq81abcd9xyz"),
    "stripe secret": ("sk_live_51H8zq81abcd9xyz0123", "zq81abcd9xyz0123"),
    "stripe webhook secret": ("whsec_zq81abcd9xyz0123456789ABCDEF", "zq81abcd9xyz0123456789ABCDEF"),
    "npm token": ("npm_zq81abcd9xyz0123456789abcdefghijkl", "zq81abcd9xyz0123456789abcdefghijkl"),
    "npmrc auth line": ("//registry.npmjs.org/:_authToken=npm_zq81abcd9xyz0123456789abcdefghijkl", "zq81abcd9xyz"),
    "pypi token": ("pypi-AgEIcHlwaS5vcmc" + "zq81abcd9xyz" * 6, "zq81abcd9xyz"),
    "hugging face": ("hf_zq81abcd9xyz0123456789ABCDEFGHIJ", "zq81abcd9xyz0123456789ABCDEFGHIJ"),
    "supabase secret key": ("sb_secret_zq81abcd9xyz0123456789", "zq81abcd9xyz0123456789"),
    "google api key": ("AIzaSyzq81abcd9xyz0123456789abcdefghijk", "zq81abcd9xyz0123456789abcdefghijk"),
    "sendgrid": ("SG.zq81abcd9xyz01234567.zq81abcd9xyz0123456789abcdefghijklmnopqrstu", "zq81abcd9xyz0123456789abcdefghijklm"),
    "sentry org token": ("sntrys_" + "eyJpYXQiOjE3" * 5, "eyJpYXQiOjE3eyJpYXQiOjE3"),
    "twilio (detect-secrets rule)": ("SKzq81abcd9xyz0123456789abcdef0123", "zq81abcd9xyz0123456789abcdef0123"),
    "telegram (detect-secrets rule)": ("bot 123456789:AAzq81abcd9xyz0123456789abcdefghijk", "AAzq81abcd9xyz0123456789abcd"),
    "azure storage key": ("AccountKey=" + "zq81abcd9xyz0123" * 5 + "zq81abcd==", "zq81abcd9xyz0123zq81"),
    "rsa private key": (PEM, "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo"),
    "pgp private key": (PGP, "lQOYBF0dGvkBCADo8pqQqgkqkYkPqs"),
    "key block in json": (json.dumps({"private_key": PEM.replace("RSA ", "")}), "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo"),
    "key line logged alone": ("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo6tUqpTbCqK1b2mM3xQk9eRj+Zb0Q", "u1SU1LfVLPHCozMxH2Mo"),
    "token of an unknown issuer": ("vendor said: zQ81aBcD9xYz0123kLmN4567pQrS8901tUvWxY23Ab", "zQ81aBcD9xYz0123kLmN"),
    "key block cut off": ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "b3BlbnNzaC1rZXktdjEAAAAA"),
    # ---- personal data -------------------------------------------------------------------------
    "email": ("contact jane.doe@example.com now", "jane.doe@example.com"),
    "email percent encoded": ("/invite?to=jane.doe%40example.com", "jane.doe"),
    "card spaces": ("card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"),
    "card dashes": ("card 5555-5555-5555-4444 declined", "5555-5555-5555-4444"),
    "card dots": ("card 4111.1111.1111.1111 declined", "4111.1111.1111.1111"),
    "card plain": ("pan 378282246310005 amex", "378282246310005"),
    "iban": ("refund to GB82 WEST 1234 5698 7654 32 failed", "5698 7654"),
    "iban compact": ("iban DE89370400440532013000", "DE89370400440532013000"),
    "phone international": ("sms to +44 20 7946 0958 failed", "7946 0958"),
    "phone us": ("call (415) 555-2671 back", "555-2671"),
    "phone dashed": ("callback 415-555-2671 queued", "415-555-2671"),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_secret_shape_is_removed_and_a_marker_remains(name: str) -> None:
    text, secret = SHAPES[name]
    out = Redactor().text(text)
    assert secret not in out
    assert "[REDACTED:" in out


def test_there_are_at_least_sixty_distinct_shapes() -> None:
    assert len(SHAPES) >= 60
    assert len({text for text, _ in SHAPES.values()}) == len(SHAPES)


HARMLESS = [
    "GET /api/practices/42 returned 500 after 812 ms (order 1234567)",
    "code: ECONNRESET while calling upstream",
    '{"code": "23505", "detail": "Key (id)=(7) already exists."}',
    "epoch 1700000000000 ms, trace id 4bf92f3577b34da6a3ce929d0e0e4736",
    "TypeError: Cannot read properties of undefined (reading 'author')",
    "password: process.env.DB_PASSWORD",
    "token_count=812 session_timeout_ms=3000 author=jane",
    "version 2024-01-31 build 4111",
]


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_diagnostic_text_is_left_alone(text: str) -> None:
    assert Redactor().text(text) == text


@pytest.mark.parametrize("name", ["yaml block scalar", "rsa private key", "pgp private key", "value on the next line"])
def test_a_file_body_keeps_its_line_count(name: str) -> None:
    text, secret = SHAPES[name]
    out = Redactor().file_body(text)
    assert secret not in out
    assert out.count("\n") == text.count("\n")


def test_redacting_twice_changes_nothing_more() -> None:
    text = " ".join(t for t, _ in SHAPES.values())
    once = Redactor().text(text, max_length=100_000)
    assert Redactor().text(once, max_length=100_000) == once


def test_pairs_in_structured_values_are_redacted_by_name_but_sentences_are_not_names() -> None:
    out = Redactor().value({"query": [["code", "zq81abcd9xyz"], ["page", "2"]], "lines": ["bad password", "retry later"]})
    assert out["query"] == [["code", "[REDACTED:sensitive_key]"], ["page", "2"]]
    assert out["lines"] == ["bad password", "retry later"]


def test_checksums_decide_cards_and_ibans() -> None:
    assert luhn_ok("4111 1111 1111 1111") and not luhn_ok("4111 1111 1111 1112")
    assert iban_ok("GB82WEST12345698765432") and not iban_ok("GB82WEST12345698765433")
    assert "4111 1111 1111 1112" in Redactor().text("ref 4111 1111 1111 1112")


@pytest.mark.parametrize(
    ("path", "unreadable"),
    [
        (".env", True),
        ("apps/web/.env.production", True),
        (".npmrc", True),
        ("packages/x/.pypirc", True),
        ("secrets/prod.yaml", True),
        ("deploy/keys/server.pem", True),
        ("config/database.js", False),
        ("settings.py", False),
        ("src/lib/secret_sauce.ts", False),
    ],
)
def test_one_unreadable_path_rule(path: str, unreadable: bool) -> None:
    assert path_unreadable(path) is unreadable


def test_everything_a_sentry_event_carries_leaves_the_watcher_redacted() -> None:
    planted = ["zq81abcd9xyz", "Hunter2x", "jane.doe", "4/0AbCdEfGh", "s3ss10nv4lue"]
    event = {
        "event_id": "b" * 32,
        "platform": "python",
        "level": "error",
        "message": "login failed password='Hunter2x' for jane.doe@example.com",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "bad {'password': 'Hunter2x'}",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "app/auth.py",
                                "function": "login",
                                "lineno": 3,
                                "context_line": "    connect(password='Hunter2x')",
                                "vars": {"creds": "{'password': 'Hunter2x'}", "cfg": {"api_key": "zq81abcd9xyz"}},
                            }
                        ]
                    },
                }
            ]
        },
        "request": {
            "url": "https://shop.example.com/cb",
            "method": "GET",
            "query_string": [["code", "4/0AbCdEfGh"], ["token", "zq81abcd9xyz"]],
            "headers": [["Referer", "https://shop.example.com/login?code=4/0AbCdEfGh"], ["Cookie", "sid=s3ss10nv4lue"]],
            "cookies": {"sid": "s3ss10nv4lue"},
            "data": {"password": "Hunter2x", "email": "jane.doe@example.com"},
        },
        "tags": {"session": "s3ss10nv4lue", "user:jane.doe@example.com": "1"},
        "fingerprint": ["login", "jane.doe@example.com"],
        "extra": {"token": "zq81abcd9xyz"},
        "breadcrumbs": {"values": [{"message": "password=Hunter2x"}]},
    }
    observed = Normaliser().sentry_event(event, service="web", now=datetime(2026, 1, 1, tzinfo=UTC))
    dumped = repr(observed)
    for secret in planted:
        assert secret not in dumped, secret
    assert "[REDACTED:" in dumped


def test_the_redactor_survives_pickling_to_a_worker_process_with_every_rule() -> None:
    import pickle

    secret = "kQ9xV2pL7mZ4tR8wN3bH6yJ1cF5dG0sAeU"
    text = f"cfg api_key='{secret}' ghp_{'A1b2C3d4E5' * 4} user bob@example.com"
    copy = pickle.loads(pickle.dumps(Redactor()))
    assert copy.text(text) == Redactor().text(text) and secret not in copy.text(text)
