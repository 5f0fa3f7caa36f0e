"""Which output columns of a diagnostic SELECT derive from a redacted column (pure: no I/O).

Redacting by the *name* of an output column is defeated by ``SELECT api_token AS x``,
``upper(api_token)`` or ``replace(email, '@', ' at ')``. :func:`output_lineage` instead follows each
output expression back through aliases, functions, casts, operators, ``CASE``, aggregates, window
functions, scalar and ``ARRAY`` subqueries, derived tables, CTEs (recursive ones to a fixed point),
set operations, joins (``USING``/``NATURAL`` merges), ``SELECT *`` / ``t.*`` and whole-row references
(``row_to_json(t)``, ``to_jsonb(u)``), and says for each output column which redacted base columns
flow into it. It is deliberately an over-approximation: anything an expression *mentions* counts
(``CASE WHEN api_token ...`` taints the result), and a name that cannot be resolved counts as every
column in reach. What it cannot follow (``SELECT *`` over a set-returning function, a table whose
columns are not known) raises :class:`LineageUnknown`, and the adapter refuses the query.

Comparisons in ``WHERE``/``JOIN ... ON`` that leak a bit at a time are out of scope: they output no
value of the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.parser import ParseError

from .errors import InvestigationError

__all__ = ["LineageColumn", "LineageUnknown", "Relation", "base_columns", "output_lineage"]

_NONE: frozenset[str] = frozenset()


class LineageUnknown(InvestigationError):
    """The statement's column lineage cannot be followed; the reason is safe to show the model."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LineageColumn:
    """One column of a relation or of a result: its name and the redacted base columns it derives from."""

    name: str
    sources: frozenset[str] = _NONE


@dataclass(frozen=True, slots=True)
class Relation:
    """A FROM item as the query sees it; ``columns`` is None when its shape is unknown (functions)."""

    alias: str
    columns: tuple[LineageColumn, ...] | None
    taint: frozenset[str] = _NONE

    def everything(self) -> frozenset[str]:
        """Every redacted source any column of this relation carries."""
        if self.columns is None:
            return self.taint
        return frozenset().union(*(c.sources for c in self.columns)) | self.taint


def base_columns(table: str, names: Iterable[str], redacted: Iterable[str]) -> tuple[LineageColumn, ...]:
    """A base table's columns: those named in ``redacted`` (case-insensitive) are their own source."""
    marked = {r.lower() for r in redacted}
    return tuple(LineageColumn(n, frozenset({f"{table}.{n}"}) if n.lower() in marked else _NONE) for n in names)


@dataclass
class _Scope:
    catalog: Mapping[tuple[str, str], tuple[LineageColumn, ...]]
    schema: str
    redacted: frozenset[str]
    ctes: dict[str, tuple[LineageColumn, ...]] = field(default_factory=dict)
    ranges: list[Relation] = field(default_factory=list)
    outer: _Scope | None = None

    def child(self, *, ranges: list[Relation] | None = None) -> _Scope:
        return _Scope(self.catalog, self.schema, self.redacted, dict(self.ctes), list(ranges or []), self)

    def chain(self) -> Iterable[_Scope]:
        scope: _Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.outer


def output_lineage(
    sql: str,
    *,
    catalog: Mapping[tuple[str, str], tuple[LineageColumn, ...]],
    schema: str,
    redacted: Iterable[str],
) -> tuple[LineageColumn, ...]:
    """The result columns of one SELECT with the redacted sources of each (see the module docstring)."""
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise LineageUnknown(f"not valid PostgreSQL: {exc}") from None
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.SelectStmt):
        raise LineageUnknown("exactly one SELECT is needed")
    scope = _Scope(catalog, schema, frozenset(r.lower() for r in redacted))
    return tuple(_select(statements[0].stmt, scope))


# ---- statements ---------------------------------------------------------------------------------


def _names(values: Iterable[ast.Node] | None) -> list[str]:
    return [str(v.sval) for v in values or () if isinstance(v, ast.String)]


def _renamed(columns: Iterable[LineageColumn], names: list[str]) -> tuple[LineageColumn, ...]:
    cols = list(columns)
    return tuple(LineageColumn(names[i], c.sources) if i < len(names) else c for i, c in enumerate(cols))


def _select(node: ast.SelectStmt, scope: _Scope) -> list[LineageColumn]:
    if node.withClause is not None:
        scope = scope.child()
        scope.ranges = list(scope.outer.ranges) if scope.outer else []
        for cte in node.withClause.ctes or ():
            scope.ctes[str(cte.ctename)] = _cte(cte, scope, recursive=bool(node.withClause.recursive))
    if node.larg is not None and node.rarg is not None:
        left, right = _select(node.larg, scope), _select(node.rarg, scope)
        if len(left) != len(right):
            raise LineageUnknown("the branches of a set operation have different widths")
        return [LineageColumn(a.name, a.sources | b.sources) for a, b in zip(left, right, strict=True)]
    if node.valuesLists:
        rows = [list(row) for row in node.valuesLists]
        width = len(rows[0])
        return [
            LineageColumn(f"column{i + 1}", frozenset().union(*(_expr(row[i], scope) for row in rows if i < len(row))))
            for i in range(width)
        ]
    local = scope.child()
    items: list[Relation] = []
    for item in node.fromClause or ():
        top, named = _from_item(item, local)
        items.append(top)
        local.ranges.extend(named)
    out: list[LineageColumn] = []
    for target in node.targetList or ():
        value = target.val
        if isinstance(value, ast.ColumnRef) and value.fields and isinstance(value.fields[-1], ast.A_Star):
            out.extend(_star(value, items, local))
            continue
        out.append(LineageColumn(str(target.name) if target.name else _default_name(value), _expr(value, local)))
    return out


def _cte(cte: ast.CommonTableExpr, scope: _Scope, *, recursive: bool) -> tuple[LineageColumn, ...]:
    name = str(cte.ctename)
    query = cte.ctequery
    if not isinstance(query, ast.SelectStmt):
        raise LineageUnknown(f"WITH {name} is not a SELECT")
    rename = _names(cte.aliascolnames)
    if recursive and query.larg is not None:
        # The recursive term reads the CTE itself: start from the non-recursive term, widen to a fixed point.
        columns = _renamed(_select(query.larg, scope), rename)
        for _ in range(10):
            scope.ctes[name] = columns
            widened = _renamed(_select(query, scope), rename)
            if widened == columns:
                break
            columns = widened
        else:
            raise LineageUnknown(f"the lineage of recursive WITH {name} does not settle")
        return columns
    return _renamed(_select(query, scope), rename)


def _from_item(item: ast.Node, scope: _Scope) -> tuple[Relation, list[Relation]]:
    """The item as a whole (for ``*``) and every named relation in it (for qualified references)."""
    if isinstance(item, ast.RangeVar):
        return _range_var(item, scope)
    if isinstance(item, ast.RangeTableSample) and isinstance(item.relation, ast.RangeVar):
        return _range_var(item.relation, scope)
    if isinstance(item, ast.RangeSubselect):
        sub = scope if item.lateral else _Scope(scope.catalog, scope.schema, scope.redacted, dict(scope.ctes), [], scope.outer)
        if not isinstance(item.subquery, ast.SelectStmt):
            raise LineageUnknown("a derived table that is not a SELECT")
        selected = tuple(_select(item.subquery, sub))
        alias = str(item.alias.aliasname) if item.alias else "?subquery?"
        rel = Relation(alias, _renamed(selected, _names(item.alias.colnames) if item.alias else []))
        return rel, [rel]
    if isinstance(item, ast.RangeFunction):
        # A function in FROM sees the items before it (implicitly LATERAL); its output shape is not known.
        taint = frozenset().union(*(_expr(list(f), scope) for f in item.functions or ()))
        alias = str(item.alias.aliasname) if item.alias else _function_name(item)
        rel = Relation(alias, None, taint)
        return rel, [rel]
    if isinstance(item, ast.JoinExpr) and item.larg is not None and item.rarg is not None:
        left, left_named = _from_item(item.larg, scope)
        right, right_named = _from_item(item.rarg, scope.child(ranges=[*scope.ranges, *left_named]))
        using = _names(item.usingClause)
        if item.isNatural and left.columns is not None and right.columns is not None:
            right_names = {c.name for c in right.columns}
            using = [c.name for c in left.columns if c.name in right_names]
        columns: tuple[LineageColumn, ...] | None
        if left.columns is None or right.columns is None:
            columns = None
        elif using:
            merged = [LineageColumn(n, _by_name(left.columns, n) | _by_name(right.columns, n)) for n in using]
            rest = [c for c in (*left.columns, *right.columns) if c.name not in using]
            columns = (*merged, *rest)
        else:
            columns = (*left.columns, *right.columns)
        alias = str(item.alias.aliasname) if item.alias else "?join?"
        whole = Relation(alias, columns, left.taint | right.taint)
        named = [*left_named, *right_named]
        if item.alias is not None:
            named.append(whole)
        return whole, named
    raise LineageUnknown(f"cannot follow columns through {type(item).__name__}")


def _range_var(item: ast.RangeVar, scope: _Scope) -> tuple[Relation, list[Relation]]:
    name = str(item.relname)
    columns: tuple[LineageColumn, ...] | None = None
    if item.schemaname is None:
        columns = next((s.ctes[name] for s in scope.chain() if name in s.ctes), None)
    if columns is None:
        columns = scope.catalog.get((str(item.schemaname or scope.schema), name))
    if columns is None:
        raise LineageUnknown(f"the columns of {name} are not known")
    alias = str(item.alias.aliasname) if item.alias else name
    rel = Relation(alias, _renamed(columns, _names(item.alias.colnames) if item.alias else []))
    return rel, [rel]


def _star(ref: ast.ColumnRef, items: list[Relation], scope: _Scope) -> list[LineageColumn]:
    fields = ref.fields or ()
    if len(fields) == 1:
        chosen = items
    else:
        qualifier = fields[-2].sval if isinstance(fields[-2], ast.String) else ""
        chosen = [r for r in scope.ranges if r.alias == qualifier][:1]
        if not chosen:
            raise LineageUnknown(f"{qualifier}.* names no relation in FROM")
    out: list[LineageColumn] = []
    for rel in chosen:
        if rel.columns is None:
            raise LineageUnknown(f"SELECT * over {rel.alias}, whose columns are not known: name the columns")
        out.extend(rel.columns)
    return out


# ---- expressions --------------------------------------------------------------------------------


def _by_name(columns: Iterable[LineageColumn], name: str) -> frozenset[str]:
    return frozenset().union(*(c.sources for c in columns if c.name.lower() == name.lower()))


def _expr(node: object, scope: _Scope) -> frozenset[str]:
    """The redacted sources an expression mentions (anything inside it counts)."""
    if node is None or isinstance(node, (str, int, float, bool)):
        return _NONE
    if isinstance(node, (list, tuple)):
        return frozenset().union(*(_expr(n, scope) for n in node))
    if isinstance(node, ast.ColumnRef):
        return _column(node, scope)
    if isinstance(node, ast.SubLink):
        inner = node.subselect
        columns = _select(inner, scope.child(ranges=[])) if isinstance(inner, ast.SelectStmt) else []
        return frozenset().union(*(c.sources for c in columns)) | _expr(node.testexpr, scope)
    if isinstance(node, ast.Node):
        return frozenset().union(*(_expr(getattr(node, attr), scope) for attr in node if attr != "location"))
    return _NONE


def _column(ref: ast.ColumnRef, scope: _Scope) -> frozenset[str]:
    fields = ref.fields or ()
    names = [str(f.sval) if isinstance(f, ast.String) else "*" for f in fields]
    # Whatever it resolves to, a reference *named* like a redacted column counts.
    named = frozenset({names[-1]}) if names[-1].lower() in scope.redacted else _NONE
    if names[-1] == "*":
        if len(names) == 1:
            return frozenset().union(*(r.everything() for s in scope.chain() for r in s.ranges))
        return (_qualified(names[-2], None, scope) or _NONE) | named
    if len(names) >= 2:
        found = _qualified(names[-2], names[-1], scope)
        if found is not None:
            return found | named
        # No relation of that name: ``(addr).city`` style, a field of the column ``names[0]``.
        return _unqualified(names[0], scope) | named
    return _unqualified(names[0], scope) | named


def _qualified(qualifier: str, column: str | None, scope: _Scope) -> frozenset[str] | None:
    for s in scope.chain():
        for rel in s.ranges:
            if rel.alias == qualifier:
                if column is None or rel.columns is None:
                    return rel.everything()
                found = [c for c in rel.columns if c.name.lower() == column.lower()]
                # A field of a composite column (``(t.addr).city``) comes from the column it is read from.
                return frozenset().union(*(c.sources for c in found)) if found else rel.everything()
    return None


def _unqualified(name: str, scope: _Scope) -> frozenset[str]:
    for s in scope.chain():
        hits = [c for r in s.ranges if r.columns is not None for c in r.columns if c.name.lower() == name.lower()]
        opaque = frozenset().union(*(r.taint for r in s.ranges if r.columns is None))
        if hits:
            return frozenset().union(*(c.sources for c in hits)) | opaque
        rows = [r for r in s.ranges if r.alias == name]
        if rows:  # a whole-row reference: row_to_json(t), to_jsonb(u), SELECT u FROM users u
            return rows[0].everything()
        if opaque:
            return opaque
    # Not resolvable here: count everything in reach rather than guess.
    return frozenset().union(*(r.everything() for s in scope.chain() for r in s.ranges))


def _function_name(item: ast.RangeFunction) -> str:
    for entry in item.functions or ():
        call = entry[0] if isinstance(entry, (list, tuple)) and entry else None
        if isinstance(call, ast.FuncCall) and call.funcname:
            return str(call.funcname[-1].sval)
    return "?function?"


def _default_name(value: object) -> str:
    """The output name PostgreSQL gives an unnamed target (close enough for resolving references)."""
    if isinstance(value, ast.ColumnRef) and value.fields and isinstance(value.fields[-1], ast.String):
        return str(value.fields[-1].sval)
    if isinstance(value, ast.FuncCall) and value.funcname:
        return str(value.funcname[-1].sval)
    if isinstance(value, ast.TypeCast):
        return _default_name(value.arg) if isinstance(value.arg, (ast.ColumnRef, ast.FuncCall)) else "?column?"
    if isinstance(value, ast.CaseExpr):
        return "case"
    return "?column?"
