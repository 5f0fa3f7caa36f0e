"""Reading a slow query's plan and proposing an index (pure: the plan and the existing indexes come in).

A plan node ``Seq Scan`` with a ``Filter`` on plain columns of a table is the classic missing index:
every call reads the whole table to keep a few rows. The proposal is a new migration file (equality
columns first, then range columns, as a B-tree wants them) that a human must approve: migrations are
protected paths, and an index changes write cost and locks the table while it builds.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["IndexProposal", "SeqScan", "filter_columns", "index_proposal", "migration_diff", "seq_scans"]

_COMPARISON = re.compile(r"(?P<alias>\w+)\.(?P<column>\w+)\)?(?:::[\w ]+(?:\[\])?\)?)?\s*(?P<op>=|<=|>=|<>|<|>|~~\*?|!~~)\s")
_EQUALITY = {"=", "~~"}  # LIKE 'abc%' is served by a B-tree like an equality prefix


@dataclass(frozen=True, slots=True)
class SeqScan:
    """A sequential scan with a filter, as the plan shows it."""

    schema: str
    table: str
    alias: str
    filter: str
    total_cost: float
    plan_rows: float


@dataclass(frozen=True, slots=True)
class IndexProposal:
    """A new index as a migration file, waiting for a human."""

    schema: str
    table: str
    columns: tuple[str, ...]
    index_name: str
    sql: str
    migration_path: str
    diff: str
    reason: str

    @property
    def diff_hash(self) -> str:
        """``sha256:<hex>`` of the diff, what an approval binds to (as the implementer computes it)."""
        return "sha256:" + hashlib.sha256(self.diff.encode()).hexdigest()


def _nodes(plan: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(plan, Mapping):
        yield plan
        for value in plan.values():
            yield from _nodes(value)
    elif isinstance(plan, list):
        for item in plan:
            yield from _nodes(item)


def seq_scans(plan: Any) -> list[SeqScan]:
    """Every filtered sequential scan of an ``EXPLAIN (FORMAT JSON)`` plan, costliest first."""
    found = [
        SeqScan(
            schema=str(node.get("Schema") or "public"),
            table=str(node["Relation Name"]),
            alias=str(node.get("Alias") or node["Relation Name"]),
            filter=str(node["Filter"]),
            total_cost=float(node.get("Total Cost") or 0.0),
            plan_rows=float(node.get("Plan Rows") or 0.0),
        )
        for node in _nodes(plan)
        if node.get("Node Type") == "Seq Scan" and node.get("Filter") and node.get("Relation Name")
    ]
    return sorted(found, key=lambda s: -s.total_cost)


def filter_columns(scan: SeqScan) -> tuple[str, ...]:
    """Plain columns the filter compares, equality columns first (expressions such as lower(x) are left out)."""
    equality: list[str] = []
    ranges: list[str] = []
    for match in _COMPARISON.finditer(scan.filter):
        if match.group("alias") != scan.alias:
            continue
        start = match.start()
        if start > 0 and scan.filter[start - 1] not in "( ":
            continue
        # lower(users.email) = $1 needs an expression index: not proposed automatically.
        before = scan.filter[:start].rstrip("(")
        if re.search(r"\w$", before):
            continue
        column = match.group("column")
        bucket = equality if match.group("op") in _EQUALITY else ranges
        if column not in equality and column not in ranges:
            bucket.append(column)
    return tuple(equality + ranges)[:3]


def _name(table: str, columns: Sequence[str]) -> str:
    name = f"{table}_{'_'.join(columns)}_idx"
    if len(name) > 63:
        name = f"{table[:30]}_{hashlib.sha256('_'.join(columns).encode()).hexdigest()[:8]}_idx"
    return name


def migration_diff(path: str, content: str) -> str:
    """A unified diff creating ``path`` with ``content`` (what the approver sees and what is hashed)."""
    lines = difflib.unified_diff([], content.splitlines(keepends=True), fromfile="/dev/null", tofile=f"b/{path}", n=0)
    return f"diff --git a/{path} b/{path}\nnew file mode 100644\n" + "".join(lines)


def index_proposal(
    scan: SeqScan,
    *,
    existing: Sequence[Sequence[str]],
    migrations_dir: str,
    now: datetime,
    query: str,
) -> IndexProposal | None:
    """An index for ``scan`` unless an existing index already leads with its columns (None then)."""
    columns = filter_columns(scan)
    if not columns:
        return None
    if any(tuple(index[: len(columns)]) == columns or (index and index[0] == columns[0]) for index in existing):
        return None
    name = _name(scan.table, columns)
    qualified = f"{scan.schema}.{scan.table}" if scan.schema != "public" else scan.table
    sql = f"create index if not exists {name} on {qualified} ({', '.join(columns)});\n"
    content = (
        f"-- Proposed by Medic for a slow query (sequential scan of {scan.schema}.{scan.table} filtering "
        f"{', '.join(columns)}).\n"
        "-- Needs approval: an index adds write cost and locks writes to the table while it builds\n"
        "-- (on a large, busy table build it with CREATE INDEX CONCURRENTLY outside a migration transaction).\n"
        f"-- Query: {' '.join(query.split())[:300]}\n"
        f"{sql}"
    )
    path = f"{migrations_dir.rstrip('/')}/{now.strftime('%Y%m%d%H%M%S')}_medic_index_{scan.table}_{'_'.join(columns)}.sql"
    reason = (
        f"the plan reads {scan.schema}.{scan.table} by a sequential scan with filter {scan.filter}; "
        f"no index leads with {', '.join(columns)}"
    )
    return IndexProposal(
        schema=scan.schema,
        table=scan.table,
        columns=columns,
        index_name=name,
        sql=sql.strip(),
        migration_path=path,
        diff=migration_diff(path, content),
        reason=reason,
    )
