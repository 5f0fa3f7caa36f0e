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
    """Revert the suspect commit, or only its change to the fault lines when it also changed other code."""
    suspect = inv.suspect
    assert suspect is not None
    partial = suspect.modifies_other_files and not suspect.fault_file_added
    strategy = FixStrategy.PARTIAL_REVERT if partial else FixStrategy.REVERT_COMMIT
    scope = "its change to these lines" if partial else "the whole commit"
    cause = (
        f'{reason}; the error began with commit {suspect.sha[:12]} "{suspect.subject[:120]}" '
        f"({suspect.date:%Y-%m-%d %H:%M} UTC), which changed these lines; revert {scope}"
    )
    hint = _hint(
        strategy,
        commit=suspect.sha,
        subject=suspect.subject[:200],
        file=ctx.file,
        lines=f"{ctx.statement_first}-{ctx.statement_last}",
        restore="\n  ".join(line.strip() for line in suspect.hunk_removed[:12]) if partial and suspect.hunk_removed else None,
    )
    return Diagnosis(
        root_cause=cause,
        affected_file=ctx.file,
        affected_lines=(ctx.statement_first, ctx.statement_last),
        affected_function=ctx.function.name if ctx.function else None,
        fix_strategy=strategy,
        confidence=confidence,
        fixability=0.8,
        estimated_fix_minutes=_STRATEGY_MINUTES[strategy],
        fix_hint=hint,
        evidence=(
            Evidence(
                kind="git_blame",
                summary=f"fault lines last changed by {suspect.sha[:12]} ({len(suspect.removed_lines)} line(s) removed there)",
                source=f"{ctx.file}:{ctx.line}",
            ),
        ),
    )


_ANY_GUARD = re.compile(
    r"(?:\?\?|\?\.|\bif\s+not\b|\bis\s+(?:not\s+)?None\b|\bif\s*\(\s*!|[!=]==?\s*(?:null|undefined)|\.get\(|\btry\b|\bexcept\b|"
    r"\bcatch\b|\blen\(|\.length\b|\bif\s*\(?\s*\w+\s*\)?\s*:?\s*$)"
)


def _strong_revert_reason(inv: Investigation, ctx: CodeContext, failure: Failure, expression: str) -> str | None:
    """Why the suspect commit itself is the fix's target: it removed a check, or renamed what is missing."""
    suspect = inv.suspect
    if suspect is None:
        return None
    if expression and (_removed_guard(suspect, expression) or _guard_in(suspect.other_removed, expression)):
        return f"the commit removed the check for `{expression}`"
    removed_guards = [line for line in suspect.hunk_removed if _ANY_GUARD.search(line)]
    added_guards = [line for line in suspect.hunk_added if _ANY_GUARD.search(line)]
    if removed_guards and not added_guards:
        return f"the commit replaced a guarded line (`{removed_guards[0].strip()[:100]}`) with one that fails"
    key = _unquote(failure.member)
    if failure.kind == "missing_key" and key:
        old = _renamed_key(suspect, key)
        if old is not None:
            return f"the commit changed the key read here from `{old}` to `{key}`, which the data does not carry"
    if failure.kind == "missing_key" and _removed_mentions(suspect, key):
        return f"the commit renamed or removed the key `{key}`"
    return None


_SUBSCRIPT_KEY = re.compile(r"([\w$.]+)\[\s*['\"]([^'\"]+)['\"]\s*\]|([\w$]+)\.get\(\s*['\"]([^'\"]+)['\"]")


def _keys(lines: tuple[str, ...]) -> set[tuple[str, str]]:
    found = set()
    for line in lines:
        for m in _SUBSCRIPT_KEY.finditer(line):
            found.add((m.group(1) or m.group(3), m.group(2) or m.group(4)))
    return found


def _renamed_key(suspect: SuspectSummary, key: str) -> str | None:
    """The key the fault hunk used to read on the same container, when the commit replaced it with ``key``."""
    removed, added = _keys(suspect.hunk_removed), _keys(suspect.hunk_added)
    containers = {c for c, k in added if k == key} - {c for c, k in removed if k == key}
    for container, old in removed:
        if container in containers and old != key and (container, old) not in added:
            return old
    return None


def _guard_in(lines: tuple[str, ...], name: str) -> bool:
    n = re.escape(name)
    guard = re.compile(
        rf"(?:if\s+(?:not\s+{n}\b|{n}\s+is\s+None)|if\s*\(\s*!\s*{n}\b|{n}\s*[!=]==?\s*(?:null|undefined)|{n}\s*\?\?)"
    )
    return any(guard.search(line) for line in lines)


_REQUEST_VALUE = re.compile(
    r"(?:query_params|args|form|query|searchParams|params|headers|cookies|environ)\.get\(|request\.(?:GET|POST)\b|getenv\("
)


def _type_rule(inv: Investigation, ctx: CodeContext, failure: Failure) -> Diagnosis | None:
    """A value used as a number is text (an unconverted request parameter): convert and validate it."""
    if failure.kind not in ("type_mismatch", "parse_error"):
        return None
    target_type = failure.member if failure.member in ("int", "float") else "int"
    candidates = list(ctx.bindings)
    if failure.kind == "parse_error":
        op = _pick(ctx.operations, "parse", line=ctx.line)
        if op is None:
            return None
        candidates = [b for b in ctx.bindings if b.name == root_name(op.base)] or candidates
    for binding in candidates:
        if binding.value and _REQUEST_VALUE.search(binding.value):
            verb = "is text from the request" if failure.kind == "type_mismatch" else "comes from the request unchecked"
            cause = (
                f"`{binding.name}` {verb} (`{binding.value}`, line {binding.line}) and line {ctx.line} uses it as "
                f"{target_type}: convert it to {target_type} where it is read and answer 400 when it is not a number"
            )
            hint = _hint(
                FixStrategy.LLM_EDIT,
                kind="coerce_type",
                expression=binding.name,
                convert=target_type,
                origin=f"{binding.source} (line {binding.line})",
                origin_line=binding.line,
                line=ctx.line,
                exit="http_400",
            )
            diagnosis = _diagnosis(ctx, FixStrategy.LLM_EDIT, cause, 0.8, hint)
            first = min(binding.line, ctx.statement_first) if ctx.statement_first - binding.line <= 5 else ctx.statement_first
            return diagnosis.adjusted(affected_lines=(first, ctx.statement_last), fixability=0.6)
    return None


def _not_found_rule(ctx: CodeContext, failure: Failure) -> Diagnosis | None:
    """A lookup that raises when nothing matches (``.one()``, ``Model.objects.get``): look up optionally and answer 404."""
    if failure.kind != "not_found":
        return None
    call = next((o for o in ctx.operations if o.kind == "call" and o.member in {"one", "scalar_one", "get", "get_object"}), None)
    assigned = re.match(r"\s*([A-Za-z_]\w*)\s*(?::[^=]+)?=", ctx.statement)
    name = assigned.group(1) if assigned else None
    lookup = f".{call.member}()" if call else "the lookup"
    replacement = {"one": ".one_or_none()", "scalar_one": ".scalar_one_or_none()"}.get(
        (call.member or "") if call else "", ".first()"
    )
    cause = f"{lookup} at line {ctx.line} raises when no row matches; an unknown id is a normal request and should answer 404"
    hint = _hint(
        FixStrategy.NULL_GUARD,
        expression=name,
        lookup=lookup,
        replace_with=replacement,
        line=ctx.line,
        exit=_exit_for(ctx),
        message=f"{_entity(name or 'resource')} not found",
    )
    return _diagnosis(ctx, FixStrategy.NULL_GUARD, cause, 0.8, hint)


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
    guard = _guard_rule(inv, ctx, failure) or _not_found_rule(ctx, failure)
    expression = ""
    for line in (guard.fix_hint or "").splitlines() if guard else []:
        if line.startswith("expression: "):
            expression = root_name(line.removeprefix("expression: "))
    if recent:
        reason = _strong_revert_reason(inv, ctx, failure, expression)
        if reason is not None:
            lead = guard.root_cause if guard else f"{exc_type}: {message[:200]}"
            revert = _revert(inv, ctx, f"{lead}; {reason}", 0.85)
            if guard is not None and guard.fix_hint:
                # The fixer may try the guard too and keep whichever candidate passes the tests.
                extra = "\n".join(f"fallback_{line}" for line in guard.fix_hint.splitlines())
                revert = revert.adjusted(fix_hint=f"{revert.fix_hint}\n{extra}")
            return revert
    typed = _type_rule(inv, ctx, failure)
    if typed is not None:
        return typed
    if guard is not None:
        return guard.adjusted(confidence=guard.confidence + 0.05) if recent else guard
    if recent and suspect is not None and (suspect.hunk_removed or failure.kind != "other"):
        reason = {
            "undefined_name": f"`{failure.member}` is not defined",
            "signature_mismatch": "a call no longer matches the function's signature",
            "not_callable": f"`{failure.expression or failure.member or 'a value'}` is not callable",
            "parse_error": "a value no longer parses",
        }.get(failure.kind, f"{exc_type}: {message[:200]}")
        confidence = 0.8 if failure.kind != "other" else 0.65
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
