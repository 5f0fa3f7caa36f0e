"""What the audit-log and token attacks share: a store per dialect, a started control-api, an attacker's SQL.

The attacker has the database: plain ``sqlite3`` on the file (as a shell would, so no pragma of
ours is on) or SQL on PostgreSQL, and knows the hashing (it is public); what they do not have is
the signing key or the witness.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from medic_control.actions import service as audit
from medic_control.actions import tree as audit_tree
from medic_control.actions.chain import ChainEntry
from medic_control.actions.checkpoint import Checkpoint
from medic_control.actions.keys import load_or_create_signing_key
from medic_control.actions.merkle import CompactRange, leaf_hash
from medic_control.actions.models import Action
from medic_control.app import build
from medic_control.auth import service as tokens
from medic_control.auth.schemas import Role
from medic_control.db import PG_SCHEMA, migrate, open_engine
from medic_control.settings import ControlSettings
from medic_runtime import ServiceRuntime, ServiceSettings
from medic_runtime.store import ServiceStore

__all__ = [
    "Attacker",
    "ControlUnderTest",
    "checkpoint_of",
    "eventually",
    "fill",
    "key",
    "medic",
    "record",
    "verify",
]


def record(n: int, issue: str = "iss_sec") -> audit.AuditRecord:
    """One audit record, distinct per ``n``."""
    return audit.AuditRecord(
        event_id=f"evt-{n}",
        event_type="action_recorded",
        issue_id=issue,
        occurred_at=datetime(2026, 12, 1, 9, 0, n % 60, 1000 * n % 1_000_000, tzinfo=UTC),
        service="implementer",
        actor="implementer",
        action="implementer.commit",
        status="succeeded",
        summary=f"step {n}",
        details={"n": n, "diff": "--- a\n+++ b\n"},
    )


async def fill(store: ServiceStore, first: int, last: int) -> None:
    """Append records ``first`` … ``last`` in one transaction."""
    async with store.transaction() as conn:
        await audit.append(conn, [record(i) for i in range(first, last + 1)])


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy (generous: the machine is shared)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


@dataclass
class Attacker:
    """Raw SQL on the store, outside control-api."""

    url: str

    @property
    def table(self) -> str:
        return "agent_actions" if self.url.startswith("sqlite") else f'"{PG_SCHEMA}".agent_actions'

    @property
    def lock_table(self) -> str:
        return "agent_audit_lock" if self.url.startswith("sqlite") else f'"{PG_SCHEMA}".agent_audit_lock'

    async def sql(self, *statements: str, pragmas: tuple[str, ...] = ()) -> list[Any]:
        """Run statements in one transaction; the last one's rows."""
        if self.url.startswith("sqlite"):
            return await asyncio.to_thread(self._sqlite, statements, pragmas)
        engine, _ = open_engine(self.url)
        try:
            async with engine.begin() as conn:
                result: Any = None
                for statement in statements:
                    result = await conn.execute(text(statement))
                return list(result.all()) if result is not None and result.returns_rows else []
        finally:
            await engine.dispose()

    def _sqlite(self, statements: tuple[str, ...], pragmas: tuple[str, ...]) -> list[Any]:
        db = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None)
        try:
            for pragma in pragmas:
                db.execute(pragma)
            db.execute("BEGIN")
            rows: list[Any] = []
            try:
                for statement in statements:
                    rows = db.execute(statement).fetchall()
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return rows
        finally:
            db.close()

    def refused(self) -> tuple[type[BaseException], ...]:
        """What the database raises when it refuses a statement."""
        from sqlalchemy.exc import DBAPIError

        return (sqlite3.DatabaseError,) if self.url.startswith("sqlite") else (DBAPIError,)

    async def disable_guards(self) -> None:
        """What an attacker with superuser access does first: every trigger off."""
        if self.url.startswith("sqlite"):
            names = ("agent_actions_no_update", "agent_actions_no_delete", "agent_actions_next_only", "agent_actions_no_replace")
            await self.sql(*(f"DROP TRIGGER IF EXISTS {n}" for n in names))
        else:
            await self.sql(f"ALTER TABLE {self.table} DISABLE TRIGGER USER")

    async def rewrite_from(self, store: ServiceStore, seq: int, *, summary: str) -> None:
        """Edit entry ``seq`` and recompute every hash from it on, and the stored tree head: a chain-only check passes."""
        await self.disable_guards()
        async with store.engine.connect() as conn:
            entries = (await conn.execute(select(Action).order_by(Action.seq))).all()
        tree, prev, updates = CompactRange(), "0" * 64, []
        for row in entries:
            entry = ChainEntry(**{name: getattr(row, name) for name in ChainEntry.__slots__})
            if row.seq == seq:
                entry = ChainEntry(**{**{n: getattr(entry, n) for n in ChainEntry.__slots__}, "summary": summary})
            canonical = entry.canonical().encode()
            digest = hashlib.sha256(prev.encode() + canonical).hexdigest()
            leaf = leaf_hash(canonical)
            tree.append(leaf)
            if row.seq >= seq:
                updates.append((row.seq, entry.summary, prev, digest, leaf.hex()))
            prev = digest
        statements = [
            f"UPDATE {self.table} SET summary = '{s}', prev_hash = '{p}', hash = '{h}', leaf_hash = '{lf}' WHERE seq = {q}"
            for q, s, p, h, lf in updates
        ]
        statements.append(f"UPDATE {self.lock_table} SET tree_size = {tree.size}, compact_range = '{tree.encode()}' WHERE id = 1")
        await self.sql(*statements)

    async def truncate_to(self, size: int) -> None:
        """Delete every entry after ``size`` and rewrite the stored tree head to match: a chain-only check passes."""
        await self.disable_guards()
        rows = await self.sql(f"SELECT leaf_hash FROM {self.table} WHERE seq <= {size} ORDER BY seq")
        tree = CompactRange()
        for (leaf,) in rows:
            tree.append(bytes.fromhex(leaf))
        await self.sql(
            f"DELETE FROM {self.table} WHERE seq > {size}",
            f"UPDATE {self.lock_table} SET tree_size = {tree.size}, compact_range = '{tree.encode()}' WHERE id = 1",
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The audit store under test: a SQLite file, then a fresh database on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'medic.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[ServiceStore]:
    """A migrated store (no control-api running)."""
    store = ServiceStore(store_url, service="control-api")
    await migrate(store.engine, schema=store.schema)
    yield store
    await store.close()


@dataclass
class ControlUnderTest:
    """A started control-api with a token per role."""

    runtime: ServiceRuntime
    settings: ControlSettings
    secrets: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None, *, bearer: str | None = None) -> httpx.AsyncClient:
        """An in-process HTTP client, as ``role`` (or with a raw bearer credential)."""
        secret = bearer if bearer is not None else (self.secrets[role] if role else None)
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.runtime.http, raise_app_exceptions=False),
            base_url="http://control.test",
            headers=headers,
        )

    async def refusals(self) -> list[dict[str, Any]]:
        """The audited ``auth.refused`` entries, newest first."""
        async with self.client("admin") as admin:
            response = await admin.get("/api/v1/actions", params={"action": "auth.refused", "limit": 500})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


StartControl = Callable[..., Awaitable[ControlUnderTest]]


@pytest.fixture
async def start_control(service_settings: Callable[..., ServiceSettings], tmp_path: Path) -> AsyncIterator[StartControl]:
    """Start control-api (projector off) on a store; stopped after the test."""
    started: list[ServiceRuntime] = []

    async def start(store_url: str, *, clock: Callable[[], datetime] | None = None, **overrides: Any) -> ControlUnderTest:
        values: dict[str, Any] = {
            "store_url": store_url,
            "projector_enabled": False,
            "snapshot_interval_s": 3600,
            "audit_signing_key_file": tmp_path / "audit-key.pem",
            **overrides,
        }
        settings = service_settings("control-api", cls=ControlSettings, **values)
        assert isinstance(settings, ControlSettings)
        runtime = build(settings, clock=clock)
        await runtime.start()
        started.append(runtime)
        control = ControlUnderTest(runtime, settings)
        async with runtime.store.transaction() as conn:
            for name, role in (("viewer", Role.VIEWER), ("operator", Role.OPERATOR), ("admin", Role.ADMIN)):
                created = await tokens.create_token(conn, name=f"{name}-user", role=role, created_by="test")
                control.secrets[name] = created.token
        return control

    yield start
    for runtime in reversed(started):
        await runtime.stop()


# ---- the audit log's checkpoints and the operator's CLI ---------------------------------------


@pytest.fixture
def key(tmp_path: Path) -> Ed25519PrivateKey:
    return load_or_create_signing_key(tmp_path / "keys" / "audit.pem")


async def checkpoint_of(store: ServiceStore, key: Ed25519PrivateKey) -> Checkpoint:
    async with store.engine.connect() as conn:
        return await audit_tree.current_checkpoint(conn, key=key, at=datetime.now(UTC))


async def verify(store: ServiceStore, key: Ed25519PrivateKey | None, *checkpoints: Checkpoint) -> audit.VerifyReport:
    async with store.engine.connect() as conn:
        return await audit.verify(conn, checkpoints=checkpoints, public_key=key.public_key() if key else None)


def medic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real ``medic`` CLI, as an operator runs it."""
    import os
    import sys

    environ = {**os.environ, "MEDIC_CLI_CONFIG": "/nonexistent/cli.toml", **(env or {})}
    environ.pop("MEDIC_API_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "medic", *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )
