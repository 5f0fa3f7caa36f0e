"""Attacks on authentication: expired tokens from the cache, self-named OIDC groups, unverified emails; each refusal audited."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from .audit_harness import ControlUnderTest, StartControl, eventually, start_control, store_url

__all__ = ["start_control", "store_url"]  # fixtures, imported for pytest


class Clock:
    """A clock the test moves: control-api's token checks read it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def refused(control: ControlUnderTest, reason: str, *, count: int = 1) -> list[dict[str, Any]]:
    """Wait for ``count`` audited refusals with ``reason`` (they are written beside the refused request)."""

    async def found() -> list[dict[str, Any]]:
        items = [i for i in await control.refusals() if i["details"]["reason"] == reason]
        return items if len(items) >= count else []

    items: list[dict[str, Any]] = await eventually(found)
    assert all(i["status"] == "refused" and i["service"] == "control-api" for i in items)
    return items


# ---- API tokens ------------------------------------------------------------------------------


async def test_an_expired_token_is_refused_on_a_cache_hit_well_before_the_cache_ttl(
    store_url: str, start_control: StartControl
) -> None:
    clock = Clock()
    control = await start_control(store_url, clock=clock, token_cache_s=600)
    async with control.client("admin") as admin:
        created = (
            await admin.post(
                "/api/v1/tokens",
                json={"name": "contractor", "role": "operator", "expires_at": (clock.now + timedelta(hours=1)).isoformat()},
            )
        ).json()
    async with control.client(bearer=created["token"]) as contractor:
        assert (await contractor.get("/api/v1/whoami")).status_code == 200  # verified and now cached for 600 s
        clock.now += timedelta(hours=2)
        assert (await contractor.get("/api/v1/whoami")).status_code == 401
        assert (await contractor.post("/api/v1/control/pause", json={"reason": "x"})).status_code == 401
    (entry, *_) = await refused(control, "expired_token")
    assert entry["actor"] == "contractor" and entry["action"] == "auth.refused"


async def test_a_revoked_token_is_refused_and_audited(store_url: str, start_control: StartControl) -> None:
    control = await start_control(store_url)
    async with control.client("admin") as admin:
        created = (await admin.post("/api/v1/tokens", json={"name": "leaked", "role": "viewer"})).json()
        async with control.client(bearer=created["token"]) as leaked:
            assert (await leaked.get("/api/v1/whoami")).status_code == 200
            assert (await admin.delete(f"/api/v1/tokens/{created['id']}")).status_code == 200
            assert (await leaked.get("/api/v1/whoami")).status_code == 401
    (entry,) = await refused(control, "revoked_token")
    assert entry["actor"] == "leaked"


async def test_an_unknown_or_malformed_token_is_refused_and_audited_without_echoing_it(
    store_url: str, start_control: StartControl
) -> None:
    control = await start_control(store_url)
    guess = "mdc_" + "A" * 43
    for secret, reason in ((guess, "unknown_token"), ("not-a-medic-token", "malformed")):
        async with control.client(bearer=secret) as client:
            assert (await client.get("/api/v1/issues")).status_code == 401
        (entry,) = await refused(control, reason)
        assert entry["actor"] == "anonymous" and secret not in json.dumps(entry)


async def test_a_role_too_low_is_refused_with_403_and_audited(store_url: str, start_control: StartControl) -> None:
    control = await start_control(store_url)
    async with control.client("viewer") as viewer:
        assert (await viewer.post("/api/v1/control/pause", json={"reason": "x"})).status_code == 403
        assert (await viewer.get("/api/v1/audit/verify")).status_code == 403  # a read route holding its connection
    entries = await refused(control, "role_too_low", count=2)
    assert {e["actor"] for e in entries} == {"viewer-user"}
    assert any("/api/v1/control/pause" in (e["reasoning"] or "") for e in entries)


async def test_a_flood_of_bad_tokens_is_refused_every_time_but_audited_at_a_bounded_rate(
    store_url: str, start_control: StartControl
) -> None:
    control = await start_control(store_url, write_burst=3, write_rate_per_minute=1)
    for i in range(15):
        async with control.client(bearer=f"mdc_{i:043d}") as client:
            assert (await client.get("/api/v1/issues")).status_code == 401
    await refused(control, "unknown_token", count=3)
    assert len([i for i in await control.refusals() if i["details"]["reason"] == "unknown_token"]) <= 4


# ---- OIDC ------------------------------------------------------------------------------------


@pytest.fixture
def idp() -> Iterator[tuple[str, Callable[..., str]]]:
    """A local identity provider's JWKS endpoint (real HTTP) and a function signing tokens with its key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def sign(claims: dict[str, Any]) -> str:
        now = int(time.time())
        base = {"iss": "https://id.example", "aud": "medic", "sub": "u-42", "exp": now + 300, "iat": now}
        return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "k1"})

    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", sign
    server.shutdown()


async def _oidc(start_control: StartControl, store_url: str, jwks_url: str, **overrides: Any) -> ControlUnderTest:
    return await start_control(
        store_url,
        oidc_issuer="https://id.example",
        oidc_audience="medic",
        oidc_jwks_url=jwks_url,
        oidc_role_claim="groups",
        oidc_role_map={"sre": "operator", "platform-admins": "admin"},
        **overrides,
    )


async def _whoami(control: ControlUnderTest, token: str) -> tuple[int, dict[str, Any]]:
    async with control.client(bearer=token) as client:
        response = await client.get("/api/v1/whoami")
    return response.status_code, response.json()


async def test_a_group_literally_named_admin_grants_nothing_without_a_role_map_entry(
    store_url: str, start_control: StartControl, idp: tuple[str, Callable[..., str]]
) -> None:
    url, sign = idp
    control = await _oidc(start_control, store_url, url)
    verified = {"email": "mallory@example.com", "email_verified": True}
    for claims in ({"groups": ["admin"]}, {"groups": "admin"}, {"groups": ["operator", "viewer"]}):
        status, _ = await _whoami(control, sign({**claims, **verified}))
        assert status == 401, claims
    entries = await refused(control, "no_mapped_role", count=3)
    assert {e["actor"] for e in entries} == {"u-42"}  # the verified subject, not a claimed name


async def test_a_mapped_group_beside_a_literal_admin_group_gets_only_the_mapped_role(
    store_url: str, start_control: StartControl, idp: tuple[str, Callable[..., str]]
) -> None:
    url, sign = idp
    control = await _oidc(start_control, store_url, url)
    token = sign({"groups": ["sre", "admin"], "email": "mallory@example.com", "email_verified": True})
    status, me = await _whoami(control, token)
    assert status == 200 and me["role"] == "operator"
    async with control.client(bearer=token) as client:
        assert (await client.get("/api/v1/tokens")).status_code == 403  # admin only
    await refused(control, "role_too_low")


async def test_an_unverified_email_is_never_the_identity(
    store_url: str, start_control: StartControl, idp: tuple[str, Callable[..., str]]
) -> None:
    url, sign = idp
    control = await _oidc(start_control, store_url, url)
    for verified in ({"email_verified": False}, {}, {"email_verified": "false"}, {"email_verified": 1}):
        status, _ = await _whoami(control, sign({"groups": ["platform-admins"], "email": "ceo@example.com", **verified}))
        assert status == 401, verified
    entries = await refused(control, "email_unverified", count=4)
    assert all(e["actor"] == "u-42" and "ceo@example.com" not in e["actor"] for e in entries)


async def test_a_verified_email_is_the_identity_and_without_one_the_subject_is(
    store_url: str, start_control: StartControl, idp: tuple[str, Callable[..., str]]
) -> None:
    url, sign = idp
    control = await _oidc(start_control, store_url, url)
    status, me = await _whoami(control, sign({"groups": ["sre"], "email": "alice@example.com", "email_verified": True}))
    assert (status, me["identity"], me["role"]) == (200, "alice@example.com", "operator")
    status, me = await _whoami(control, sign({"groups": ["platform-admins"]}))
    assert (status, me["identity"], me["role"]) == (200, "u-42", "admin")


async def test_forged_and_expired_jwts_are_refused_and_audited(
    store_url: str, start_control: StartControl, idp: tuple[str, Callable[..., str]]
) -> None:
    url, sign = idp
    control = await _oidc(start_control, store_url, url)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": "https://id.example", "aud": "medic", "sub": "u-42", "exp": now + 300, "groups": ["platform-admins"]}
    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
    unsigned = jwt.encode(claims, None, algorithm="none")
    expired = sign({"groups": ["platform-admins"], "exp": now - 3600})
    for token in (forged, unsigned, expired):
        status, _ = await _whoami(control, token)
        assert status == 401
    entries = await refused(control, "invalid_jwt", count=3)
    assert all(e["actor"] == "anonymous" for e in entries)  # nothing from an unverified token is trusted
