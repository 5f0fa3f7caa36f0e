"""Access control: every endpoint × {no token, viewer, operator, admin}, 401/403/429/413, safe errors, CORS, OIDC."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import ControlHarness, StartControl, approval_request, lifecycle, seed

ROLES = (None, "viewer", "operator", "admin")
RANK = {None: 0, "viewer": 1, "operator": 2, "admin": 3}

# (method, path template, minimum role, body, success status). {issue} {approval} {token} {name} are filled per caller.
ENDPOINTS: list[tuple[str, str, str, Any, int]] = [
    ("GET", "/api/v1/control/state", "viewer", None, 200),
    ("POST", "/api/v1/control/pause", "operator", {"reason": "matrix"}, 200),
    ("POST", "/api/v1/control/resume", "operator", {"reason": "matrix"}, 200),
    ("POST", "/api/v1/control/scan", "operator", {"target": "shop"}, 200),
    ("GET", "/api/v1/config", "viewer", None, 200),
    ("PUT", "/api/v1/config", "admin", "CONFIG", 200),
    ("GET", "/api/v1/config/level3", "viewer", None, 200),
    ("GET", "/api/v1/approvals?status=pending", "viewer", None, 200),
    ("GET", "/api/v1/approvals/{approval}", "viewer", None, 200),
    ("POST", "/api/v1/approvals/{approval}/approve", "operator", "DIFF", 200),
    ("POST", "/api/v1/approvals/{approval2}/reject", "operator", {"reason": "no"}, 200),
    ("GET", "/api/v1/issues", "viewer", None, 200),
    ("GET", "/api/v1/issues/{issue}", "viewer", None, 200),
    ("POST", "/api/v1/issues/{issue}/rollback", "operator", {"reason": "matrix"}, 200),
    ("POST", "/api/v1/issues/{issue}/feedback", "operator", {"rating": 4, "comment": "ok"}, 201),
    ("POST", "/api/v1/issues/{issue}/false-positive", "operator", {"false_positive": True, "reason": "bot"}, 200),
    ("GET", "/api/v1/review/weekly", "viewer", None, 200),
    ("POST", "/api/v1/review/weekly/send", "operator", None, 200),
    ("GET", "/api/v1/actions", "viewer", None, 200),
    ("GET", "/api/v1/audit/head", "viewer", None, 200),
    ("GET", "/api/v1/audit/verify", "operator", None, 200),
    ("GET", "/api/v1/audit/key", "viewer", None, 200),
    ("GET", "/api/v1/audit/checkpoint", "viewer", None, 200),
    ("GET", "/api/v1/audit/proof/inclusion?seq=1", "viewer", None, 200),
    ("GET", "/api/v1/audit/proof/consistency?first=1&second=1", "viewer", None, 200),
    ("GET", "/api/v1/metrics/summary", "viewer", None, 200),
    ("GET", "/api/v1/strategies", "viewer", None, 200),
    ("GET", "/api/v1/dlq", "viewer", None, 200),
    ("GET", "/api/v1/whoami", "viewer", None, 200),
    ("GET", "/api/v1/agents/control-api/logs", "viewer", None, 200),
    ("POST", "/api/v1/tokens", "admin", "TOKEN", 201),
    ("GET", "/api/v1/tokens", "admin", None, 200),
    ("DELETE", "/api/v1/tokens/{token}", "admin", None, 200),
    ("POST", "/api/v1/events", "admin", "EVENT", 202),
]
# Streams never end: covered by its own test below and by the browser test.
SEPARATELY = {("GET", "/api/v1/stream")}


def test_the_matrix_covers_every_api_route(tmp_path: Any) -> None:
    from medic_control.app import build
    from medic_control.settings import ControlSettings

    app = build(ControlSettings(store_url=f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", projector_enabled=False)).http
    paths = app.openapi()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() if p.startswith("/api/v1") for m in ops}

    def template(path: str) -> str:
        path = path.split("?", maxsplit=1)[0]
        for name, param in (
            ("{issue}", "{issue_id}"),
            ("{approval}", "{approval_id}"),
            ("{approval2}", "{approval_id}"),
            ("{token}", "{token_id}"),
            ("/agents/control-api/", "/agents/{name}/"),
        ):
            path = path.replace(name, param)
        return path

    assert {(m, template(p)) for m, p, *_ in ENDPOINTS} | SEPARATELY == routes


async def _fixtures_for(control: ControlHarness, caller: str | None) -> dict[str, str]:
    """Resources owned by one caller's row of the matrix, so one caller's success does not affect another's."""
    tag = caller or "none"
    events = lifecycle(f"iss_{tag}")
    # two issues: a second request for the same issue and step would supersede the first
    first, second = approval_request(f"iss_{tag}"), approval_request(f"iss_{tag}_b")
    await seed(control, [*events, first, second])
    async with control.client("admin") as admin:
        token = (await admin.post("/api/v1/tokens", json={"name": f"victim-{tag}", "role": "viewer"})).json()
    return {
        "issue": f"iss_{tag}",
        "approval": first.approval_id,
        "approval2": second.approval_id,
        "token": token["id"],
        "diff": first.diff_hash,
        "tag": tag,
    }


def _body(kind: Any, ids: dict[str, str], config: dict[str, Any]) -> Any:
    if kind == "CONFIG":
        return {"config": config, "reason": "matrix"}
    if kind == "DIFF":
        return {"diff_hash": ids["diff"], "reason": "reviewed"}
    if kind == "TOKEN":
        return {"name": f"new-{ids['tag']}", "role": "viewer"}
    if kind == "EVENT":
        return lifecycle(f"iss_evt_{ids['tag']}")[0].model_dump(mode="json")
    return kind


async def test_every_endpoint_answers_each_role_as_its_minimum_role_requires(store_url: str, start_control: StartControl) -> None:
    control = await start_control(store_url)
    async with control.client("viewer") as viewer:
        config = (await viewer.get("/api/v1/config")).json()["config"]
    failures: list[str] = []
    for caller in ROLES:
        ids = await _fixtures_for(control, caller)
        async with control.client(caller) as client:
            for method, template, minimum, body, success in ENDPOINTS:
                path = template.format(**ids)
                payload = _body(body, ids, config)
                response = (
                    await client.request(method, path, json=payload)
                    if payload is not None
                    else await client.request(method, path)
                )
                expected = 401 if caller is None else (403 if RANK[caller] < RANK[minimum] else success)
                if response.status_code != expected:
                    failures.append(f"{caller} {method} {path}: {response.status_code} != {expected} {response.text[:150]}")
                elif expected >= 400:
                    error = response.json()["error"]
                    assert set(error) <= {"code", "message", "field", "fields"} and "Traceback" not in response.text
    assert not failures, "\n".join(failures)


async def test_stream_needs_a_token(start_control: StartControl, tmp_path: Any) -> None:
    control = await start_control(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    async with control.client(None) as client:
        assert (await client.get("/api/v1/stream")).status_code == 401


async def test_a_client_flooding_write_endpoints_gets_429_with_retry_after(start_control: StartControl, tmp_path: Any) -> None:
    control = await start_control(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", write_burst=3, write_rate_per_minute=1)
    async with control.client("operator") as client, control.client("operator2") as other:
        statuses = [(await client.post("/api/v1/control/scan", json={})).status_code for _ in range(5)]
        limited = await client.post("/api/v1/control/scan", json={})
        assert (await other.post("/api/v1/control/scan", json={})).status_code == 200  # per client
        assert (await client.get("/api/v1/issues")).status_code == 200  # reads are not limited
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"


async def test_oversized_bodies_get_413_whether_announced_or_streamed(start_control: StartControl, tmp_path: Any) -> None:
    control = await start_control(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", max_body_bytes=2048)
    async with control.client("operator") as client:
        announced = await client.post(
            "/api/v1/control/pause", content=b"{" + b" " * 5000 + b"}", headers={"content-type": "application/json"}
        )

        async def chunks() -> Any:
            for _ in range(10):
                yield b" " * 1000

        streamed = await client.post("/api/v1/control/pause", content=chunks(), headers={"content-type": "application/json"})
        state = (await client.get("/api/v1/control/state")).json()
    assert announced.status_code == 413 and streamed.status_code == 413
    assert announced.json()["error"]["code"] == "payload_too_large"
    assert state["paused"] is False


async def test_errors_carry_a_reason_and_no_internals(start_control: StartControl, tmp_path: Any) -> None:
    control = await start_control(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    async with control.client("operator") as client:
        missing = await client.get("/api/v1/issues/iss_nope")
        invalid = await client.post(
            "/api/v1/issues/iss_x/feedback", json={"rating": 9, "comment": "<script>secret-input</script>"}
        )
        garbage = await client.post("/api/v1/control/pause", content=b"{not json", headers={"content-type": "application/json"})
        cursor = await client.get("/api/v1/issues", params={"cursor": "!!!"})
        # Break the store under the app: the client must see a generic 500, never the SQL error.
        async with control.runtime.store.transaction() as conn:
            from sqlalchemy import text

            await conn.execute(text("DROP TABLE agent_fix_feedback"))
        broken = await client.get("/api/v1/issues/iss_nope")
        async with control.runtime.store.transaction() as conn:
            await conn.execute(text("ALTER TABLE agent_issues RENAME TO agent_issues_gone"))
        broken = await client.get("/api/v1/issues")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "no such issue", "field": None}}
    assert (
        invalid.status_code == 422
        and "secret-input" not in invalid.text
        and invalid.json()["error"]["fields"][0]["loc"] == ["body", "rating"]
    )
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "malformed_json"  # was 422 before issue 15
    assert cursor.status_code == 422 and cursor.json()["error"]["message"] == "invalid cursor"
    assert broken.status_code == 500 and broken.json() == {
        "error": {"code": "internal", "message": "internal error", "field": None}
    }
    assert "agent_issues" not in broken.text and "sqlite" not in broken.text.lower()


async def test_cors_is_closed_by_default(start_control: StartControl, tmp_path: Any) -> None:
    control = await start_control(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    async with control.client("viewer", origin="https://evil.example") as client:
        simple = await client.get("/api/v1/issues")
        preflight = await client.options(
            "/api/v1/control/pause",
            headers={"access-control-request-method": "POST", "access-control-request-headers": "authorization"},
        )
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-origin" not in preflight.headers and preflight.status_code >= 400


async def test_a_revoked_token_stops_working_at_once_and_cookie_writes_need_the_csrf_header(
    start_control: StartControl, tmp_path: Any
) -> None:
    control = await start_control(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    async with control.client("admin") as admin:
        created = (await admin.post("/api/v1/tokens", json={"name": "temp", "role": "operator"})).json()
        async with control.client(None, authorization=f"Bearer {created['token']}") as temp:
            assert (await temp.get("/api/v1/whoami")).json() == {"identity": "temp", "role": "operator", "via": "token"}
            assert (await admin.delete(f"/api/v1/tokens/{created['id']}")).status_code == 200
            assert (await temp.get("/api/v1/whoami")).status_code == 401
    async with control.client(None) as browser:
        browser.cookies.set("medic_session", control.secrets["operator"])
        assert (await browser.get("/api/v1/whoami")).status_code == 200
        assert (await browser.post("/api/v1/control/pause", json={})).status_code == 403
        assert (await browser.post("/api/v1/control/pause", json={}, headers={"x-medic-csrf": "1"})).status_code == 200


async def test_the_bootstrap_admin_and_service_tokens_are_created_at_start(start_control: StartControl, tmp_path: Any) -> None:
    admin_secret, service_secret = "mdc_bootstrap_" + "b" * 30, "mdc_services_" + "s" * 30
    control = await start_control(
        f"sqlite+aiosqlite:///{tmp_path / 's.db'}", bootstrap_admin_token=admin_secret, control_api_token=service_secret
    )
    async with control.client(None, authorization=f"Bearer {admin_secret}") as admin:
        assert (await admin.get("/api/v1/whoami")).json()["role"] == "admin"
    async with control.client(None, authorization=f"Bearer {service_secret}") as service:
        assert (await service.get("/api/v1/control/state")).status_code == 200
        assert (await service.post("/api/v1/control/pause", json={})).status_code == 403


# ---- OIDC --------------------------------------------------------------------------------------


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, Callable[..., str]]]:
    """A local JWKS endpoint (real HTTP) and a function signing tokens with its key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/.well-known/jwks.json" else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"

    def sign(claims: dict[str, Any], *, kid: str = "k1", signer: Any = key) -> str:
        base = {"iss": "https://id.example", "aud": "medic", "sub": "u-1", "exp": int(time.time()) + 300, "iat": int(time.time())}
        return jwt.encode({**base, **claims}, signer, algorithm="RS256", headers={"kid": kid})

    yield url, sign
    server.shutdown()


async def test_oidc_bearer_tokens_are_verified_against_the_jwks_and_mapped_to_a_role(
    start_control: StartControl, tmp_path: Any, jwks_server: tuple[str, Callable[..., str]]
) -> None:
    url, sign = jwks_server
    control = await start_control(
        f"sqlite+aiosqlite:///{tmp_path / 's.db'}",
        oidc_issuer="https://id.example",
        oidc_audience="medic",
        oidc_jwks_url=url,
        oidc_role_claim="groups",
        oidc_role_map={"sre": "operator", "eng": "viewer"},
    )
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = {
        "operator": (sign({"groups": ["eng", "sre"], "email": "alice@example.com", "email_verified": True}), 200),
        "viewer only": (sign({"groups": ["eng"]}), 403),
        "no role": (sign({"groups": ["sales"]}), 401),
        "wrong audience": (sign({"groups": ["sre"], "aud": "other"}), 401),
        "wrong issuer": (sign({"groups": ["sre"], "iss": "https://evil.example"}), 401),
        "expired": (sign({"groups": ["sre"], "exp": int(time.time()) - 3600}), 401),
        "unknown key": (sign({"groups": ["sre"]}, kid="k2", signer=other_key), 401),
        "forged with another key": (sign({"groups": ["sre"]}, signer=other_key), 401),
        "alg none": (
            jwt.encode(
                {"groups": ["sre"], "iss": "https://id.example", "aud": "medic", "sub": "x", "exp": int(time.time()) + 60},
                None,
                algorithm="none",
            ),
            401,
        ),
    }
    results = {}
    for name, (token, _expected) in cases.items():
        async with control.client(None, authorization=f"Bearer {token}") as client:
            results[name] = (await client.post("/api/v1/control/scan", json={})).status_code
    assert results == {name: expected for name, (_t, expected) in cases.items()}
    async with control.client(None, authorization=f"Bearer {cases['operator'][0]}") as client:
        assert (await client.get("/api/v1/whoami")).json() == {"identity": "alice@example.com", "role": "operator", "via": "oidc"}
