"""What every playbook rule shares: how it picks the failing operation, traces a value's origin, and
words its diagnosis (strategy, hint, calibrated confidence, fix time)."""

from __future__ import annotations

import re

from medic_contracts import Evidence, FixStrategy

from ..code import Binding, CodeContext, Operation, root_name
from ..diagnosis import Diagnosis, Investigation

__all__ = ["STRATEGY_MINUTES", "diagnosis_at", "entity", "exit_for", "hint_text", "origin", "pick", "unquote"]

_ROUTE_FUNCTION = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$")
_ROUTE_DECORATOR = re.compile(r"@\w+\.(?:get|post|put|patch|delete|route|api_route)\(")

STRATEGY_MINUTES = {
    FixStrategy.NULL_GUARD: 5,
    FixStrategy.MISSING_KEY_GUARD: 5,
    FixStrategy.BOUNDS_GUARD: 5,
    FixStrategy.ZERO_GUARD: 5,
    FixStrategy.EMPTY_ITERABLE_GUARD: 5,
    FixStrategy.REVERT_COMMIT: 3,
    FixStrategy.PARTIAL_REVERT: 8,
    FixStrategy.LLM_EDIT: 20,
    FixStrategy.NEEDS_HUMAN: 60,
}


def unquote(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip().strip("'\"`")


def entity(name: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", root_name(name)).replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) if words else "Resource"


def exit_for(ctx: CodeContext) -> str:
    """The early exit the fix should use in this function."""
    fn = ctx.function.name.rsplit(".", 1)[-1] if ctx.function else ""
    is_route = bool(_ROUTE_FUNCTION.match(fn)) or bool(_ROUTE_DECORATOR.search(ctx.excerpt)) or "/api/" in ctx.file
    if is_route:
        return "http_404"
    return "return_none" if ctx.language == "python" else "return_undefined"


def pick(ops: tuple[Operation, ...], *kinds: str, member: str | None = None, line: int | None = None) -> Operation | None:
    want = unquote(member)
    best: Operation | None = None
    for op in ops:
        if op.kind not in kinds:
            continue
        if want is not None and unquote(op.member) != want:
            continue
        if line is not None and op.line == line:
            return op
        if best is None:
            best = op
    return best


def origin(ctx: CodeContext, inv: Investigation, expression: str) -> tuple[Binding | None, str | None]:
    """Where the value of ``expression`` came from and why it can be missing."""
    binding = ctx.binding(expression)
    if binding is None:
        return None, None
    if binding.may_be_missing and not binding.guarded:
        return (
            binding,
            f"`{binding.name}` comes from `{binding.value or binding.source}` (line {binding.line}), "
            "a lookup that returns nothing when no match exists",
        )
    if binding.calls and binding.calls in inv.callee_may_return_none:
        why = inv.callee_may_return_none[binding.calls]
        return binding, f"`{binding.name}` comes from `{binding.calls}(…)` (line {binding.line}), which can return nothing: {why}"
    if binding.kind == "parameter" and binding.may_be_missing:
        return binding, f"`{binding.name}` is an optional parameter (line {binding.line})"
    return binding, None


def hint_text(strategy: FixStrategy, **fields: object) -> str:
    lines = [f"strategy: {strategy.value}"]
    lines += [f"{k}: {v}" for k, v in fields.items() if v not in (None, "")]
    return "\n".join(lines)


def diagnosis_at(ctx: CodeContext, strategy: FixStrategy, cause: str, confidence: float, hint: str) -> Diagnosis:
    where = f"{ctx.file}:{ctx.line}"
    fixability = {FixStrategy.LLM_EDIT: 0.5, FixStrategy.NEEDS_HUMAN: 0.1}.get(strategy, 0.85)
    return Diagnosis(
        root_cause=cause,
        affected_file=ctx.file,
        affected_lines=(ctx.statement_first, ctx.statement_last),
        affected_function=ctx.function.name if ctx.function else None,
        fix_strategy=strategy,
        confidence=confidence,
        fixability=fixability,
        estimated_fix_minutes=STRATEGY_MINUTES[strategy],
        fix_hint=hint,
        evidence=(Evidence(kind="code", summary=f"failing statement: {ctx.statement.strip()[:200]}", source=where),),
    )
