"""The audit store on SQLite and PostgreSQL: migrations, append-only enforcement, tamper detection, `medic audit`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from medic_control.actions import service as audit
from medic_control.actions.chain import ChainEntry, canonical_json, prepare_entry
from medic_control.db import migrate
from medic_control.models import Base
from medic_runtime.store import ServiceStore


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[ServiceStore]:
    store = ServiceStore(store_url, service="control-api")
    await migrate(store.engine, schema=store.schema)
    yield store
    await store.close()


def record(n: int, issue: str = "iss_1") -> audit.AuditRecord:
    return audit.AuditRecord(
        event_id=f"evt-{n}",
        event_type="action_recorded",
        issue_id=issue,
        occurred_at=datetime(2026, 11, 27, 9, 0, n % 60, 123456, tzinfo=UTC),
        service="implementer",
        actor="implementer",
        action="implementer.commit",
        status="succeeded",
        summary=f"step {n} ✓",
        reasoning="because" if n % 2 else None,
        details={"diff": "--- a\n+++ b\n", "n": n, "ratio": 0.1 * n, "nested": {"ok": True, "list": [1, "x", None]}},
    )


async def fill(store: ServiceStore, n: int) -> None:
    async with store.transaction() as conn:
        await audit.append(conn, [record(i) for i in range(1, n + 1)])


async def sql(store: ServiceStore, statement: str) -> None:
    async with store.transaction() as conn:
        await conn.execute(text(statement))


def table(store: ServiceStore) -> str:
    return f'"{store.schema}".agent_actions' if store.schema else "agent_actions"


async def test_migrations_create_every_table_and_are_idempotent(store: ServiceStore) -> None:
    await migrate(store.engine, schema=store.schema)  # a second start changes nothing
    async with store.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(__import__("sqlalchemy").inspect(c).get_table_names(schema=store.schema)))
    assert set(Base.metadata.tables) <= names
    assert {"agent_issues", "agent_actions", "agent_config"} <= names


async def test_the_chain_of_an_untouched_trail_verifies_and_its_head_is_the_last_hash(store: ServiceStore) -> None:
    await fill(store, 25)
    async with store.engine.connect() as conn:
        report = await audit.verify(conn)
        seq, digest = await audit.head(conn)
    assert report.ok and report.rows == 25
    assert (seq, digest) == (25, report.head_hash)


async def test_appending_the_same_event_twice_adds_one_row(store: ServiceStore) -> None:
    async with store.transaction() as conn:
        first = await audit.append(conn, [record(1), record(1)])
    async with store.transaction() as conn:
        second = await audit.append(conn, [record(1), record(2)])
    assert list(first) == ["evt-1"] and list(second) == ["evt-2"]


async def test_concurrent_appenders_keep_one_linear_chain(store: ServiceStore) -> None:
    async def writer(base: int) -> None:
        for i in range(5):
            async with store.transaction() as conn:
                await audit.lock(conn)
                await audit.append(conn, [record(base + i)])

    await asyncio.gather(*(writer(100 * k) for k in range(1, 5)))
    async with store.engine.connect() as conn:
        report = await audit.verify(conn)
    assert report.ok and report.rows == 20


async def test_the_database_refuses_update_and_delete_of_audit_rows(store: ServiceStore) -> None:
    await fill(store, 3)
    for statement in (f"UPDATE {table(store)} SET summary = 'edited' WHERE seq = 2", f"DELETE FROM {table(store)} WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"):
            await sql(store, statement)
    if store.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            await sql(store, f"TRUNCATE {table(store)}")
    async with store.engine.connect() as conn:
        assert (await audit.verify(conn)).ok


async def _disable_guard(store: ServiceStore) -> None:
    # What an attacker with database superuser access does first.
    if store.dialect == "postgresql":
        await sql(store, f"ALTER TABLE {table(store)} DISABLE TRIGGER USER")
    else:
        await sql(store, "DROP TRIGGER agent_actions_no_update")
        await sql(store, "DROP TRIGGER agent_actions_no_delete")


async def test_an_edited_row_breaks_the_chain_at_that_row(store: ServiceStore) -> None:
    await fill(store, 10)
    await _disable_guard(store)
    await sql(store, f"UPDATE {table(store)} SET summary = 'nothing to see' WHERE seq = 7")
    async with store.engine.connect() as conn:
        report = await audit.verify(conn)
    assert not report.ok
    assert report.first_bad_seq == 7 and report.first_bad_event_id == "evt-7"
    assert "modified" in (report.problem or "")


async def test_an_edit_that_also_rewrites_the_hash_is_caught_at_the_next_row(store: ServiceStore) -> None:
    await fill(store, 10)
    await _disable_guard(store)
    await sql(store, f"UPDATE {table(store)} SET details = '{{}}', hash = '{'e' * 64}' WHERE seq = 4")
    async with store.engine.connect() as conn:
        report = await audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 4


async def test_a_deleted_row_is_named_as_missing(store: ServiceStore) -> None:
    await fill(store, 10)
    await _disable_guard(store)
    await sql(store, f"DELETE FROM {table(store)} WHERE seq = 5")
    async with store.engine.connect() as conn:
        report = await audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 5 and "missing" in (report.problem or "")


async def test_deleting_the_tail_is_caught_against_an_exported_head(store: ServiceStore) -> None:
    await fill(store, 10)
    async with store.engine.connect() as conn:
        _, exported = await audit.head(conn)
    await _disable_guard(store)
    await sql(store, f"DELETE FROM {table(store)} WHERE seq >= 9")
    async with store.engine.connect() as conn:
        alone = await audit.verify(conn)  # the rest still chains, but the stored tree head (0005) is 10 entries
        report = await audit.verify(conn, expected_head=exported)
    assert not alone.ok and "stored tree head" in (alone.problem or "")
    assert not report.ok and report.first_bad_seq == 9  # ...but the exported head is gone


def medic(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the `medic` CLI in-process (its own thread: it runs its own event loop)."""
    from medic.main import main

    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_medic_audit_verify_fails_naming_the_tampered_row_and_head_prints_the_hash(
    store: ServiceStore, store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIC_API_URL", raising=False)
    monkeypatch.setenv("MEDIC_CLI_CONFIG", "/nonexistent/cli.toml")
    await fill(store, 6)
    code, _, err = await asyncio.to_thread(medic, capsys, "audit", "verify", "--database-url", store_url)
    assert code == 0, err
    _, out, _ = await asyncio.to_thread(medic, capsys, "audit", "head", "--database-url", store_url)
    async with store.engine.connect() as conn:
        seq, digest = await audit.head(conn)
    assert out.split() == [str(seq), digest]
    await _disable_guard(store)
    await sql(store, f"UPDATE {table(store)} SET actor = 'someone else' WHERE seq = 3")
    code, _, err = await asyncio.to_thread(medic, capsys, "audit", "verify", "--database-url", store_url)
    assert code == 1
    assert "row 3" in err and "evt-3" in err


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_times = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]),
)


def vars_of(entry: ChainEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in ChainEntry.__slots__}


@settings(max_examples=300, deadline=None)
@given(
    details=st.dictionaries(st.text(max_size=10), _json, max_size=5),
    words=st.lists(st.text(max_size=20), min_size=5, max_size=5),
    reasoning=st.none() | st.text(max_size=30),
    occurred_at=_times,
    recorded_at=_times,
)
def test_the_entry_json_built_around_its_details_is_byte_for_byte_the_canonical_json(
    details: dict[str, Any], words: list[str], reasoning: str | None, occurred_at: datetime, recorded_at: datetime
) -> None:
    """The hashed form must not depend on how it is built: the stored details are the slice of it."""
    entry = ChainEntry(
        seq=7,
        event_id=words[0],
        event_type="action_recorded",
        issue_id=words[1] or None,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        service=words[2],
        actor=words[3],
        action=words[4],
        status="succeeded",
        summary=" ".join(words),
        reasoning=reasoning,
        details=details,
    )
    prepared = prepare_entry(**{k: v for k, v in vars_of(entry).items() if k not in ("seq", "recorded_at")})
    text = prepared.canonical(seq=entry.seq, recorded_at=entry.recorded_at)
    stored = prepared.entry(seq=entry.seq, recorded_at=entry.recorded_at)  # details cleaned of NUL, as stored
    assert text == stored.canonical()
    assert prepared.details_json == canonical_json(stored.details)
    if "\\u0000" not in canonical_json(entry.details):
        assert text == entry.canonical()
    assert json.loads(text)["details"] == json.loads(prepared.details_json)
    utc_time = occurred_at.astimezone(UTC)
    assert json.loads(text)["occurred_at"] == utc_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_migration_0005_hashes_the_leaves_of_a_trail_written_before_it(store_url: str) -> None:
    """A store at 0004 with a chained trail comes out of 0005 with every leaf hash and the tree head, and still verifies."""
    from alembic import command
    from sqlalchemy import insert

    from medic_control.actions import tree as audit_tree
    from medic_control.actions.chain import GENESIS, entry_hash
    from medic_control.actions.merkle import CompactRange, leaf_hash
    from medic_control.db import _alembic_config

    old = ServiceStore(store_url, service="control-api")
    try:
        async with old.engine.begin() as conn:
            if old.schema:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{old.schema}"'))
            await conn.run_sync(lambda c: command.upgrade(_alembic_config(c), "0004"))
        prev, rows, tree = GENESIS, [], CompactRange()
        for n in range(1, 8):
            r = record(n)
            entry = ChainEntry(seq=n, recorded_at=datetime(2026, 11, 27, 10, 0, n, tzinfo=UTC), **vars_of_record(r))
            digest = entry_hash(prev, entry)
            rows.append({**vars_of(entry), "prev_hash": prev, "hash": digest})
            tree.append(leaf_hash(entry.canonical().encode()))
            prev = digest
        async with old.engine.begin() as conn:  # the columns 0004 has (no leaf_hash yet)
            await conn.execute(insert(Base.metadata.tables["agent_actions"]), rows)
    finally:
        await old.close()
    store = ServiceStore(store_url, service="control-api")
    try:
        await migrate(store.engine, schema=store.schema)
        async with store.engine.connect() as conn:
            report = await audit.verify(conn)
            head = await audit_tree.tree_head(conn)
        assert report.ok and report.rows == 7
        assert head.size == 7 and head.root() == tree.root()
        await fill(store, 8)  # appends go on from the migrated head: record 8 is new, 1-7 are skipped
        async with store.engine.connect() as conn:
            after = await audit.verify(conn)
        assert after.ok and after.rows == 8
    finally:
        await store.close()


def vars_of_record(r: audit.AuditRecord) -> dict[str, Any]:
    return {name: getattr(r, name) for name in ChainEntry.__slots__ if name not in ("seq", "recorded_at")}
