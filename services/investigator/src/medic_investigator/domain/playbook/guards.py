"""The guard rule: null/undefined access, missing key, bounds, zero and empty-iterable guards."""

from __future__ import annotations

import re

from medic_contracts import FixStrategy

from ..code import CodeContext, root_name
from ..diagnosis import Diagnosis, Investigation
from ..error_kinds import Failure
from .verdicts import diagnosis_at, entity, exit_for, hint_text, origin, pick, unquote

__all__ = ["guard_rule"]

_ITERABLE_MEMBERS = {"map", "forEach", "filter", "reduce", "some", "every", "find", "flatMap", "length", "slice", "sort", "join"}


def guard_rule(inv: Investigation, ctx: CodeContext, failure: Failure) -> Diagnosis | None:
    """Null/undefined access, missing key, bounds, zero and empty-iterable guards."""
    ops = ctx.operations
    line = ctx.line
    nothing = failure.nullish or ("None" if ctx.language == "python" else "undefined")
    kind = failure.kind
    if kind == "none_attribute":
        op = pick(ops, "attribute", "iteration", member=failure.member, line=line)
        if op is None and failure.expression:
            op = next((o for o in ops if o.text == failure.expression), None)
        if op is None:
            op = pick(ops, "attribute", line=line)
        if op is None:
            return None
        base = op.base.rstrip("!")
        member = failure.member or op.member
        if ctx.language != "python" and member in _ITERABLE_MEMBERS:
            binding, why = origin(ctx, inv, base)
            cause = f"`{base}` is {nothing} and line {line} calls `.{member}` on it as if it were a list"
            return diagnosis_at(
                ctx,
                FixStrategy.EMPTY_ITERABLE_GUARD,
                cause + (f"; {why}" if why else ""),
                0.85 if why else 0.75,
                hint_text(
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
                    return diagnosis_at(
                        ctx,
                        FixStrategy.BOUNDS_GUARD,
                        cause,
                        0.8,
                        hint_text(
                            FixStrategy.BOUNDS_GUARD,
                            expression=base,
                            collection=base[: subscript_base.start()],
                            index=index,
                            line=line,
                            member=member,
                        ),
                    )
        binding, why = origin(ctx, inv, base)
        simple = re.fullmatch(r"[A-Za-z_$][\w$]*", base) is not None
        if not simple and ctx.language != "python" and not base.endswith(")") and why is None:
            # `body.user.name` with `body.user` undefined: a property the payload does not carry.
            container, _, key = base.rpartition(".")
            if not key and "[" in base:
                container, key = base.rsplit("[", 1)[0], base.rsplit("[", 1)[1].rstrip("]")
            cause = f"`{base}` is {nothing}: `{container}` has no `{unquote(key)}` and line {line} reads `.{member}` from it"
            return diagnosis_at(
                ctx,
                FixStrategy.MISSING_KEY_GUARD,
                cause,
                0.75,
                hint_text(
                    FixStrategy.MISSING_KEY_GUARD,
                    expression=base,
                    container=container,
                    key=unquote(key),
                    line=line,
                    member=member,
                ),
            )
        cause = f"`{base}` is {nothing} when line {line} reads `{base}.{member}`"
        if why:
            cause = f"{why}; line {line} then reads `{base}.{member}` without checking it"
        confidence = 0.9 if why else 0.72
        exit_kind = exit_for(ctx)
        return diagnosis_at(
            ctx,
            FixStrategy.NULL_GUARD,
            cause,
            confidence,
            hint_text(
                FixStrategy.NULL_GUARD,
                expression=base,
                member=member,
                line=line,
                origin=f"{binding.source} (line {binding.line})" if binding else None,
                exit=exit_kind,
                message=f"{entity(base_root)} not found" if exit_kind == "http_404" else None,
            ),
        )
    if kind in ("none_subscript", "none_operand", "none_parse"):
        op_kind = {
            "none_subscript": ("subscript",),
            "none_operand": ("attribute", "subscript", "call"),
            "none_parse": ("parse",),
        }[kind]
        op = pick(ops, *op_kind, member=failure.member if kind == "none_parse" else None, line=line)
        if op is None:
            return None
        base = op.base
        binding, why = origin(ctx, inv, base)
        verb = {"none_subscript": "indexes", "none_operand": "computes with", "none_parse": f"converts with {op.member}()"}[kind]
        cause = f"`{base}` is None and line {line} {verb} it" + (f"; {why}" if why else "")
        hint = hint_text(
            FixStrategy.NULL_GUARD,
            expression=base,
            line=line,
            origin=binding.source if binding else None,
            exit=exit_for(ctx) if kind != "none_parse" else "use_default_or_400",
        )
        return diagnosis_at(ctx, FixStrategy.NULL_GUARD, cause, 0.85 if why or kind == "none_parse" else 0.7, hint)
    if kind == "none_iteration":
        op = pick(ops, "iteration", line=line)
        if op is None and failure.expression:
            op = next((o for o in ops if failure.expression in (o.base, o.text)), None)
        if op is None:
            return None
        binding, why = origin(ctx, inv, op.base)
        cause = f"`{op.base}` is {nothing} and line {line} iterates over it" + (f"; {why}" if why else "")
        return diagnosis_at(
            ctx,
            FixStrategy.EMPTY_ITERABLE_GUARD,
            cause,
            0.85 if why else 0.78,
            hint_text(
                FixStrategy.EMPTY_ITERABLE_GUARD,
                expression=op.base,
                line=line,
                default="[]",
                origin=binding.source if binding else None,
            ),
        )
    if kind == "missing_key":
        wanted = unquote(failure.member)
        op = pick(ops, "subscript", member=wanted, line=line) or pick(ops, "subscript", line=line)
        if op is None:
            return None
        key = (unquote(op.member) if op.literal else wanted) or "?"
        binding = ctx.binding(op.base)
        cause = f"`{op.base}` has no key `{key}` and line {line} reads `{op.text}` without a default"
        if binding and binding.kind == "parameter":
            cause += f" (`{binding.name}` is the caller's input, so a payload without `{key}` fails)"
        return diagnosis_at(
            ctx,
            FixStrategy.MISSING_KEY_GUARD,
            cause,
            0.88 if op.literal else 0.75,
            hint_text(
                FixStrategy.MISSING_KEY_GUARD,
                expression=op.text,
                container=op.base,
                key=key,
                line=line,
                exit="http_400" if exit_for(ctx) == "http_404" else None,
            ),
        )
    if kind == "index_out_of_range":
        candidates = [
            o for o in ops if o.kind == "subscript" and not (o.literal and not (unquote(o.member) or "").lstrip("-").isdigit())
        ]
        op = next((o for o in candidates if o.line == line), candidates[0] if candidates else None)
        if op is None:
            return None
        cause = f"`{op.base}` has no element `{op.member}` (empty or shorter than expected) when line {line} reads `{op.text}`"
        off_by_one = re.search(r"len\(|\.length|\+\s*1|-\s*1", op.member or "") is not None
        if off_by_one:
            cause += "; the index is computed from the length (off by one)"
        return diagnosis_at(
            ctx,
            FixStrategy.BOUNDS_GUARD,
            cause,
            0.85,
            hint_text(
                FixStrategy.BOUNDS_GUARD,
                expression=op.text,
                collection=op.base,
                index=op.member,
                line=line,
                off_by_one="yes" if off_by_one else None,
            ),
        )
    if kind == "division_by_zero":
        op = pick(ops, "division", line=line)
        if op is None:
            return None
        binding = ctx.binding(op.base)
        cause = f"the divisor `{op.base}` is zero when line {line} computes `{op.text}`"
        if binding and binding.value:
            cause += f" (`{binding.name}` = `{binding.value}`, line {binding.line}, is zero for an empty input)"
        return diagnosis_at(
            ctx,
            FixStrategy.ZERO_GUARD,
            cause,
            0.9,
            hint_text(FixStrategy.ZERO_GUARD, expression=op.text, divisor=op.base, line=line, default="0"),
        )
    if kind == "empty_iterable":
        op = pick(ops, "iteration", member=failure.member, line=line) or pick(ops, "iteration", line=line)
        if op is None:
            return None
        cause = (
            f"`{op.base}` is empty and line {line} calls `{op.member or 'an aggregate'}` on it, which needs at least one element"
        )
        return diagnosis_at(
            ctx,
            FixStrategy.EMPTY_ITERABLE_GUARD,
            cause,
            0.85,
            hint_text(
                FixStrategy.EMPTY_ITERABLE_GUARD, expression=op.text, iterable=op.base, call=op.member, line=line, default="0"
            ),
        )
    return None
