"""The offline playbook: rule-based diagnosis of the common error classes, no LLM.

Each rule reads the exception (``error_kinds``), the culprit statement's operations and bindings
(``code``) and the suspect commit, and names the root cause, the fix strategy, a hint for the
implementer, and a calibrated confidence: high when the failing operation and the origin of the
bad value are both found in the code, lower when only the operation is, low when neither is.
"""

from __future__ import annotations

import re

from medic_contracts import Evidence, FixStrategy

from .code import Binding, CodeContext, Operation, root_name
from .diagnosis import Diagnosis, Investigation, SuspectSummary
from .error_kinds import Failure, classify

__all__ = ["PLAYBOOK_VERSION", "playbook_diagnose"]

PLAYBOOK_VERSION = "playbook-1"

_ROUTE_FUNCTION = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$")
_ROUTE_DECORATOR = re.compile(r"@\w+\.(?:get|post|put|patch|delete|route|api_route)\(")
_ITERABLE_MEMBERS = {"map", "forEach", "filter", "reduce", "some", "every", "find", "flatMap", "length", "slice", "sort", "join"}

_STRATEGY_MINUTES = {
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


def _unquote(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip().strip("'\"`")


def _entity(name: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", root_name(name)).replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) if words else "Resource"


def _exit_for(ctx: CodeContext) -> str:
    """The early exit the fix should use in this function."""
    fn = ctx.function.name.rsplit(".", 1)[-1] if ctx.function else ""
    is_route = bool(_ROUTE_FUNCTION.match(fn)) or bool(_ROUTE_DECORATOR.search(ctx.excerpt)) or "/api/" in ctx.file
    if is_route:
        return "http_404"
    return "return_none" if ctx.language == "python" else "return_undefined"


def _pick(ops: tuple[Operation, ...], *kinds: str, member: str | None = None, line: int | None = None) -> Operation | None:
    want = _unquote(member)
    best: Operation | None = None
    for op in ops:
        if op.kind not in kinds:
            continue
        if want is not None and _unquote(op.member) != want:
            continue
        if line is not None and op.line == line:
            return op
        if best is None:
            best = op
    return best


def _origin(ctx: CodeContext, inv: Investigation, expression: str) -> tuple[Binding | None, str | None]:
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


def _removed_mentions(suspect: SuspectSummary | None, *needles: str | None) -> bool:
    if suspect is None:
        return False
    words = [n for n in needles if n]
    if not words:
        return False
    removed = "\n".join(suspect.removed_lines)
    added = "\n".join(suspect.added_lines)
    return any(re.search(rf"\b{re.escape(w)}\b", removed) and not re.search(rf"\b{re.escape(w)}\b", added) for w in words)


def _removed_guard(suspect: SuspectSummary | None, name: str) -> bool:
    """The suspect commit deleted a None/undefined check of ``name`` (reverting restores it)."""
    if suspect is None or not name:
        return False
    n = re.escape(name)
    guard = re.compile(
        rf"(?:if\s+(?:not\s+{n}\b|{n}\s+is\s+None)|if\s*\(\s*!\s*{n}\b|{n}\s*[!=]==?\s*(?:null|undefined)|{n}\s*\?\?|{n}\?\.)"
    )
    return any(guard.search(line) for line in suspect.removed_lines) and not any(
        guard.search(line) for line in suspect.added_lines
    )


def _hint(strategy: FixStrategy, **fields: object) -> str:
    lines = [f"strategy: {strategy.value}"]
    lines += [f"{k}: {v}" for k, v in fields.items() if v not in (None, "")]
    return "\n".join(lines)


def _guard_rule(inv: Investigation, ctx: CodeContext, failure: Failure) -> Diagnosis | None:
    """Null/undefined access, missing key, bounds, zero and empty-iterable guards."""
    ops = ctx.operations
    line = ctx.line
    nothing = failure.nullish or ("None" if ctx.language == "python" else "undefined")
    kind = failure.kind
    if kind == "none_attribute":
        op = _pick(ops, "attribute", "iteration", member=failure.member, line=line)
        if op is None and failure.expression:
            op = next((o for o in ops if o.text == failure.expression), None)
        if op is None:
            op = _pick(ops, "attribute", line=line)
        if op is None:
            return None
        base = op.base.rstrip("!")
        member = failure.member or op.member
        if ctx.language != "python" and member in _ITERABLE_MEMBERS:
            binding, why = _origin(ctx, inv, base)
            cause = f"`{base}` is {nothing} and line {line} calls `.{member}` on it as if it were a list"
            return _diagnosis(
                ctx,
                FixStrategy.EMPTY_ITERABLE_GUARD,
                cause + (f"; {why}" if why else ""),
                0.85 if why else 0.75,
                _hint(
                    FixStrategy.EMPTY_ITERABLE_GUARD,
                    expression=base,
                    member=member,
                    line=line,
                    default="[]",
                    origin=binding.source if binding else None,
                ),
            )
        base_root = root_name(base)
        subscript_base = re.search(r"\[([^\]]+)\]$", base)
        if subscript_base and (subscript_base.group(1).strip().isdigit() or ctx.language != "python"):
            index = subscript_base.group(1).strip()
            if index.lstrip("-").isdigit() or re.fullmatch(r"[\w$.]+(?:\s*[-+]\s*\d+)?", index):
                literal_key = re.fullmatch(r"['\"`][^'\"`]+['\"`]", index)
                if literal_key is None:
                    cause = (
                        f"`{base}` is {nothing}: index `{index}` is past the end of `{base[: subscript_base.start()]}` "
                        f"(empty or shorter than expected) and line {line} reads `.{member}` from it"
                    )
                    return _diagnosis(
                        ctx,
                        FixStrategy.BOUNDS_GUARD,
                        cause,
                        0.8,
                        _hint(
                            FixStrategy.BOUNDS_GUARD,
                            expression=base,
                            collection=base[: subscript_base.start()],
                            index=index,
                            line=line,
                            member=member,
                        ),
                    )
        binding, why = _origin(ctx, inv, base)
        simple = re.fullmatch(r"[A-Za-z_$][\w$]*", base) is not None
        if not simple and ctx.language != "python" and not base.endswith(")") and why is None:
            # `body.user.name` with `body.user` undefined: a property the payload does not carry.
            container, _, key = base.rpartition(".")
            if not key and "[" in base:
                container, key = base.rsplit("[", 1)[0], base.rsplit("[", 1)[1].rstrip("]")
            cause = f"`{base}` is {nothing}: `{container}` has no `{_unquote(key)}` and line {line} reads `.{member}` from it"
            return _diagnosis(
                ctx,
                FixStrategy.MISSING_KEY_GUARD,
                cause,
                0.75,
                _hint(
                    FixStrategy.MISSING_KEY_GUARD,
                    expression=base,
                    container=container,
                    key=_unquote(key),
                    line=line,
                    member=member,
                ),
            )
        cause = f"`{base}` is {nothing} when line {line} reads `{base}.{member}`"
        if why:
            cause = f"{why}; line {line} then reads `{base}.{member}` without checking it"
        confidence = 0.9 if why else 0.72
        exit_kind = _exit_for(ctx)
        return _diagnosis(
            ctx,
            FixStrategy.NULL_GUARD,
            cause,
            confidence,
            _hint(
                FixStrategy.NULL_GUARD,
                expression=base,
                member=member,
                line=line,
                origin=f"{binding.source} (line {binding.line})" if binding else None,
                exit=exit_kind,
                message=f"{_entity(base_root)} not found" if exit_kind == "http_404" else None,
            ),
        )
    if kind in ("none_subscript", "none_operand", "none_parse"):
        op_kind = {
            "none_subscript": ("subscript",),
            "none_operand": ("attribute", "subscript", "call"),
            "none_parse": ("parse",),
        }[kind]
        op = _pick(ops, *op_kind, member=failure.member if kind == "none_parse" else None, line=line)
        if op is None:
            return None
        base = op.base
        binding, why = _origin(ctx, inv, base)
        verb = {"none_subscript": "indexes", "none_operand": "computes with", "none_parse": f"converts with {op.member}()"}[kind]
        cause = f"`{base}` is None and line {line} {verb} it" + (f"; {why}" if why else "")
        hint = _hint(
            FixStrategy.NULL_GUARD,
            expression=base,
            line=line,
            origin=binding.source if binding else None,
            exit=_exit_for(ctx) if kind != "none_parse" else "use_default_or_400",
        )
        return _diagnosis(ctx, FixStrategy.NULL_GUARD, cause, 0.85 if why or kind == "none_parse" else 0.7, hint)
    if kind == "none_iteration":
        op = _pick(ops, "iteration", line=line)
        if op is None and failure.expression:
            op = next((o for o in ops if failure.expression in (o.base, o.text)), None)
        if op is None:
            return None
        binding, why = _origin(ctx, inv, op.base)
        cause = f"`{op.base}` is {nothing} and line {line} iterates over it" + (f"; {why}" if why else "")
        return _diagnosis(
            ctx,
            FixStrategy.EMPTY_ITERABLE_GUARD,
            cause,
            0.85 if why else 0.78,
            _hint(
                FixStrategy.EMPTY_ITERABLE_GUARD,
                expression=op.base,
                line=line,
                default="[]",
                origin=binding.source if binding else None,
            ),
        )
    if kind == "missing_key":
        wanted = _unquote(failure.member)
        op = _pick(ops, "subscript", member=wanted, line=line) or _pick(ops, "subscript", line=line)
        if op is None:
            return None
        key = (_unquote(op.member) if op.literal else wanted) or "?"
        binding = ctx.binding(op.base)
        cause = f"`{op.base}` has no key `{key}` and line {line} reads `{op.text}` without a default"
        if binding and binding.kind == "parameter":
            cause += f" (`{binding.name}` is the caller's input, so a payload without `{key}` fails)"
        return _diagnosis(
            ctx,
            FixStrategy.MISSING_KEY_GUARD,
            cause,
            0.88 if op.literal else 0.75,
            _hint(
                FixStrategy.MISSING_KEY_GUARD,
                expression=op.text,
                container=op.base,
                key=key,
                line=line,
                exit="http_400" if _exit_for(ctx) == "http_404" else None,
            ),
        )
    if kind == "index_out_of_range":
        candidates = [
            o for o in ops if o.kind == "subscript" and not (o.literal and not (_unquote(o.member) or "").lstrip("-").isdigit())
        ]
        op = next((o for o in candidates if o.line == line), candidates[0] if candidates else None)
        if op is None:
            return None
        cause = f"`{op.base}` has no element `{op.member}` (empty or shorter than expected) when line {line} reads `{op.text}`"
        off_by_one = re.search(r"len\(|\.length|\+\s*1|-\s*1", op.member or "") is not None
        if off_by_one:
            cause += "; the index is computed from the length (off by one)"
        return _diagnosis(
            ctx,
            FixStrategy.BOUNDS_GUARD,
            cause,
            0.85,
            _hint(
                FixStrategy.BOUNDS_GUARD,
                expression=op.text,
                collection=op.base,
                index=op.member,
                line=line,
                off_by_one="yes" if off_by_one else None,
            ),
        )
    if kind == "division_by_zero":
        op = _pick(ops, "division", line=line)
        if op is None:
            return None
        binding = ctx.binding(op.base)
        cause = f"the divisor `{op.base}` is zero when line {line} computes `{op.text}`"
        if binding and binding.value:
            cause += f" (`{binding.name}` = `{binding.value}`, line {binding.line}, is zero for an empty input)"
        return _diagnosis(
            ctx,
            FixStrategy.ZERO_GUARD,
            cause,
            0.9,
            _hint(FixStrategy.ZERO_GUARD, expression=op.text, divisor=op.base, line=line, default="0"),
        )
    if kind == "empty_iterable":
        op = _pick(ops, "iteration", member=failure.member, line=line) or _pick(ops, "iteration", line=line)
        if op is None:
            return None
        cause = (
            f"`{op.base}` is empty and line {line} calls `{op.member or 'an aggregate'}` on it, which needs at least one element"
        )
        return _diagnosis(
            ctx,
            FixStrategy.EMPTY_ITERABLE_GUARD,
            cause,
            0.85,
            _hint(FixStrategy.EMPTY_ITERABLE_GUARD, expression=op.text, iterable=op.base, call=op.member, line=line, default="0"),
        )
    return None


def _diagnosis(ctx: CodeContext, strategy: FixStrategy, cause: str, confidence: float, hint: str) -> Diagnosis:
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
        estimated_fix_minutes=_STRATEGY_MINUTES[strategy],
        fix_hint=hint,
        evidence=(Evidence(kind="code", summary=f"failing statement: {ctx.statement.strip()[:200]}", source=where),),
    )


def _revert(inv: Investigation, ctx: CodeContext, reason: str, confidence: float) -> Diagnosis:
    suspect = inv.suspect
    assert suspect is not None
    cause = (
        f'{reason}; the error began with commit {suspect.sha[:12]} "{suspect.subject[:120]}" '
        f"({suspect.date:%Y-%m-%d %H:%M} UTC), which changed these lines"
    )
    return Diagnosis(
        root_cause=cause,
        affected_file=ctx.file,
        affected_lines=(ctx.statement_first, ctx.statement_last),
        affected_function=ctx.function.name if ctx.function else None,
        fix_strategy=FixStrategy.REVERT_COMMIT,
        confidence=confidence,
        fixability=0.8,
        estimated_fix_minutes=_STRATEGY_MINUTES[FixStrategy.REVERT_COMMIT],
        fix_hint=_hint(FixStrategy.REVERT_COMMIT, commit=suspect.sha, subject=suspect.subject[:200], file=ctx.file),
        evidence=(
            Evidence(
                kind="git_blame", summary=f"fault lines last changed by {suspect.sha[:12]}", source=f"{ctx.file}:{ctx.line}"
            ),
        ),
    )


def playbook_diagnose(inv: Investigation) -> Diagnosis:
    """Diagnose an investigated issue with the rules; never raises, answers needs_human when no rule fits."""
    ctx = inv.context
    exc_type = inv.exception.type if inv.exception else ""
    message = inv.exception.value if inv.exception and inv.exception.value else inv.message
    failure = classify(exc_type, message)
    if ctx is None:
        return Diagnosis(
            root_cause=(
                f"{exc_type or 'error'}: {message[:300]} — no stack frame maps to a file of the repository, "
                "so the fault cannot be localised in code"
            ),
            affected_file=None,
            affected_lines=None,
            affected_function=None,
            fix_strategy=FixStrategy.NEEDS_HUMAN,
            confidence=0.2,
            fixability=0.1,
            estimated_fix_minutes=_STRATEGY_MINUTES[FixStrategy.NEEDS_HUMAN],
            needs_human=True,
        )
    suspect = inv.suspect
    recent = suspect is not None and suspect.landed_before_first_seen and suspect.touches_fault_lines
    guard = _guard_rule(inv, ctx, failure)
    if guard is not None:
        expression = ""
        for line in (guard.fix_hint or "").splitlines():
            if line.startswith("expression: "):
                expression = root_name(line.removeprefix("expression: "))
        if recent and _removed_guard(suspect, expression):
            return _revert(inv, ctx, f"{guard.root_cause}; the check for `{expression}` was removed", 0.85)
        if recent and failure.kind == "missing_key" and _removed_mentions(suspect, _unquote(failure.member)):
            return _revert(inv, ctx, f"{guard.root_cause}; the key `{_unquote(failure.member)}` was renamed or removed", 0.8)
        if recent:
            guard = guard.adjusted(confidence=guard.confidence + 0.05)
        return guard
    if recent:
        reason = {
            "undefined_name": f"`{failure.member}` is not defined",
            "signature_mismatch": "a call no longer matches the function's signature",
            "not_callable": f"`{failure.expression or failure.member or 'a value'}` is not callable",
            "parse_error": "a value no longer parses",
        }.get(failure.kind, f"{exc_type}: {message[:200]}")
        confidence = 0.8 if _removed_mentions(suspect, failure.member) or failure.kind != "other" else 0.65
        return _revert(inv, ctx, reason, confidence)
    if failure.kind == "parse_error":
        op = _pick(ctx.operations, "parse", line=ctx.line)
        if op is not None:
            return _diagnosis(
                ctx,
                FixStrategy.LLM_EDIT,
                f"`{op.base}` does not hold a valid value for `{op.member}` when line {ctx.line} parses it ({message[:120]})",
                0.7,
                _hint(FixStrategy.LLM_EDIT, expression=op.text, value=op.base, line=ctx.line, exit="http_400"),
            )
    return Diagnosis(
        root_cause=(
            f"{exc_type or 'error'} at {ctx.file}:{ctx.line} in {ctx.function.name if ctx.function else 'module code'}: "
            f"{message[:300]}; no playbook rule explains it"
        ),
        affected_file=ctx.file,
        affected_lines=(ctx.statement_first, ctx.statement_last),
        affected_function=ctx.function.name if ctx.function else None,
        fix_strategy=FixStrategy.NEEDS_HUMAN,
        confidence=0.35,
        fixability=0.2,
        estimated_fix_minutes=_STRATEGY_MINUTES[FixStrategy.NEEDS_HUMAN],
        needs_human=True,
        evidence=(
            Evidence(kind="code", summary=f"failing statement: {ctx.statement.strip()[:200]}", source=f"{ctx.file}:{ctx.line}"),
        ),
    )
