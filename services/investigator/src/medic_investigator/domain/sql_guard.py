"""What a diagnostic SQL statement may do, decided from PostgreSQL's own parse tree (pure: no I/O).

The model writes the SQL, and the SQL may have been steered by attacker-influenced telemetry, so the
rules are code. :func:`inspect_select` parses the text with libpg_query (the server's grammar, through
``pglast``) and refuses anything but one plain read: a single ``SELECT`` (``WITH`` allowed when every
CTE is itself a ``SELECT``), no ``INTO``, no ``FOR UPDATE/SHARE``, no utility statement. It returns
the relations, functions and operators the statement names; the adapter then checks those names in the
catalog (functions must be built-in and immutable or stable) and checks the relations the planner
really reads (``EXPLAIN``: views expanded) against the configured allow-list.

:func:`inspect_explainable` is the looser rule for ``EXPLAIN`` of a slow query the watcher saw: one
``SELECT``/``INSERT``/``UPDATE``/``DELETE`` statement, which is only ever planned, never executed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.visitors import Visitor

from .errors import InvestigationError

__all__ = [
    "DENIED_FUNCTION",
    "QualifiedName",
    "QueryAttempt",
    "QueryRefused",
    "StatementShape",
    "TableAllowList",
    "function_denied",
    "inspect_explainable",
    "inspect_select",
    "operator_symbols",
    "plan_relations",
    "refusals",
]

#: Built-in functions refused although immutable or stable: they read other tables, settings, other
#: sessions, catalog comments or server internals by name (``table_to_xml('secret', …)``,
#: ``current_setting``, ``pg_stat_get_activity``, ``obj_description``), or they are the classic side
#: effects, whatever their volatility says.
DENIED_FUNCTION = re.compile(
    r"^(pg_|txid_|dblink|lo_|set_config$|current_setting$|nextval$|setval$|currval$|lastval$)"
    r"|_to_xml|_to_xmlschema|xmlschema|^query_to_|^cursor_to_|^ts_stat$|_description$|^inet_(client|server)_"
)


class QueryRefused(InvestigationError):
    """A statement the read-only rules do not allow; the reason is safe to show the model."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, order=True)
class QualifiedName:
    """A relation or function name as written: ``schema`` is None when unqualified."""

    schema: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True, slots=True)
class QueryAttempt:
    """One diagnostic query attempt, for the audit trail: what was asked, how it ended and why."""

    sql: str
    status: Literal["ok", "refused", "error"]
    reason: str | None = None
    rows: int = 0
    elapsed_ms: float = 0.0
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class StatementShape:
    """What one statement names."""

    kind: str  # select | insert | update | delete
    relations: frozenset[QualifiedName]
    functions: frozenset[QualifiedName]
    operators: frozenset[QualifiedName]
    cte_names: frozenset[str]


def function_denied(name: str) -> bool:
    """True for built-in functions refused whatever their volatility (see :data:`DENIED_FUNCTION`)."""
    return DENIED_FUNCTION.search(name.lower()) is not None


class _Names(Visitor):
    """Collects relations, functions, operators and CTE names; flags anything that writes or locks."""

    def __init__(self) -> None:
        super().__init__()
        self.relations: set[QualifiedName] = set()
        self.functions: set[QualifiedName] = set()
        self.operators: set[QualifiedName] = set()
        self.ctes: set[str] = set()
        self.problems: list[str] = []

    def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> None:
        if node.catalogname:
            self.problems.append(f"cross-database reference {node.catalogname}.{node.schemaname}.{node.relname}")
        self.relations.add(QualifiedName(node.schemaname, node.relname or ""))

    def visit_FuncCall(self, ancestors: Any, node: ast.FuncCall) -> None:
        parts = [str(p.sval) for p in node.funcname or ()]
        self.functions.add(QualifiedName(parts[-2] if len(parts) > 1 else None, parts[-1]))

    def visit_A_Expr(self, ancestors: Any, node: ast.A_Expr) -> None:
        parts = [str(p.sval) for p in node.name or ()]
        if parts:
            self.operators.add(QualifiedName(parts[-2] if len(parts) > 1 else None, parts[-1]))

    def visit_CommonTableExpr(self, ancestors: Any, node: ast.CommonTableExpr) -> None:
        self.ctes.add(node.ctename or "")
        if not isinstance(node.ctequery, ast.SelectStmt):
            self.problems.append(f"WITH {node.ctename} is a {type(node.ctequery).__name__}, not a SELECT")

    def visit_SelectStmt(self, ancestors: Any, node: ast.SelectStmt) -> None:
        if node.intoClause is not None:
            self.problems.append("SELECT INTO creates a table")
        if node.lockingClause:
            self.problems.append("FOR UPDATE/SHARE takes row locks")

    def visit_InsertStmt(self, ancestors: Any, node: ast.Node) -> None:
        self.problems.append("INSERT writes")

    def visit_UpdateStmt(self, ancestors: Any, node: ast.Node) -> None:
        self.problems.append("UPDATE writes")

    def visit_DeleteStmt(self, ancestors: Any, node: ast.Node) -> None:
        self.problems.append("DELETE writes")

    def visit_MergeStmt(self, ancestors: Any, node: ast.Node) -> None:
        self.problems.append("MERGE writes")


def _parse_one(sql: str) -> ast.Node:
    if not sql.strip():
        raise QueryRefused("empty statement")
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise QueryRefused(f"not valid PostgreSQL: {exc}") from None
    if len(statements) != 1:
        raise QueryRefused(f"exactly one statement is allowed, got {len(statements)}")
    stmt = statements[0].stmt
    if stmt is None:
        raise QueryRefused("empty statement")
    return stmt


def _names(stmt: ast.Node) -> _Names:
    names = _Names()
    names(stmt)
    return names


def inspect_select(sql: str) -> StatementShape:
    """The shape of ``sql`` if it is one plain read, else :class:`QueryRefused` saying why."""
    stmt = _parse_one(sql)
    if not isinstance(stmt, ast.SelectStmt):
        raise QueryRefused(f"only SELECT is allowed, got {type(stmt).__name__.removesuffix('Stmt').upper() or 'a statement'}")
    names = _names(stmt)
    if names.problems:
        raise QueryRefused("; ".join(sorted(set(names.problems))))
    return StatementShape(
        kind="select",
        relations=frozenset(r for r in names.relations if r.schema is not None or r.name not in names.ctes),
        functions=frozenset(names.functions),
        operators=frozenset(names.operators),
        cte_names=frozenset(names.ctes),
    )


_EXPLAINABLE = {ast.SelectStmt: "select", ast.InsertStmt: "insert", ast.UpdateStmt: "update", ast.DeleteStmt: "delete"}


def inspect_explainable(sql: str) -> StatementShape:
    """The shape of a statement that may be planned (never run): one SELECT/INSERT/UPDATE/DELETE."""
    stmt = _parse_one(sql)
    kind = _EXPLAINABLE.get(type(stmt))
    if kind is None:
        raise QueryRefused(f"only SELECT, INSERT, UPDATE or DELETE can be explained, got {type(stmt).__name__}")
    names = _names(stmt)
    return StatementShape(
        kind=kind,
        relations=frozenset(r for r in names.relations if r.schema is not None or r.name not in names.ctes),
        functions=frozenset(names.functions),
        operators=frozenset(names.operators),
        cte_names=frozenset(names.ctes),
    )


@dataclass(frozen=True, slots=True)
class TableAllowList:
    """The tables a diagnostic query may read, as ``schema.table`` (unqualified entries are in ``schema``)."""

    schema: str
    tables: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, entries: Iterable[str], *, schema: str) -> TableAllowList:
        """Build from config entries (``orders`` or ``billing.invoices``)."""
        tables = set()
        for entry in entries:
            parts = entry.strip().split(".")
            tables.add((parts[0], parts[1]) if len(parts) == 2 else (schema, parts[0]))
        return cls(schema=schema, tables=frozenset(tables))

    def allows(self, schema: str | None, name: str) -> bool:
        """Whether ``schema.name`` (unqualified: the configured schema) is on the list."""
        return (schema or self.schema, name) in self.tables

    def refused(self, relations: Iterable[QualifiedName]) -> list[str]:
        """The named relations that are not on the list (sorted, for a stable message)."""
        return sorted(str(r) for r in relations if not self.allows(r.schema, r.name))

    def describe(self) -> str:
        """The list as text for the model."""
        return ", ".join(f"{s}.{t}" for s, t in sorted(self.tables)) or "(none)"


def plan_relations(plan: Any) -> set[tuple[str, str]]:
    """Every (schema, relation) an ``EXPLAIN (VERBOSE, FORMAT JSON)`` plan reads, sub-plans included."""
    found: set[tuple[str, str]] = set()

    def walk(node: Any) -> Iterator[Mapping[str, Any]]:
        if isinstance(node, Mapping):
            yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for node in walk(plan):
        if "Relation Name" in node:
            found.add((str(node.get("Schema") or ""), str(node["Relation Name"])))
    return found


_SYMBOLS = re.compile(r"^[+\-*/<>=~!@#%^&|`?]+$")


def refusals(shape: StatementShape, allow: TableAllowList) -> list[str]:
    """What the text alone already refuses: relations off the list, denied or non-built-in functions and operators."""
    problems: list[str] = []
    outside = allow.refused(shape.relations)
    if outside:
        problems.append(f"not on the table allow-list: {', '.join(outside)} (allowed: {allow.describe()})")
    for fn in sorted(shape.functions):
        if function_denied(fn.name):
            problems.append(f"function {fn} is not allowed (it reads outside the allow-list or has side effects)")
        elif fn.schema not in (None, "pg_catalog"):
            problems.append(f"function {fn} is not a built-in function")
    for op in sorted(shape.operators):
        if op.schema not in (None, "pg_catalog"):
            problems.append(f"operator {op} is not a built-in operator")
    return problems


def operator_symbols(shape: StatementShape) -> list[str]:
    """The operators to look up in the catalog (keywords such as BETWEEN are syntax, not operators)."""
    return sorted({op.name for op in shape.operators if _SYMBOLS.match(op.name)})
