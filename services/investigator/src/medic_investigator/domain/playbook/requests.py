"""Request rules: an unconverted request parameter used as a number, a lookup that raises on no match."""

from __future__ import annotations

import re

from medic_contracts import FixStrategy

from ..code import CodeContext, root_name
from ..diagnosis import Diagnosis, Investigation
from ..error_kinds import Failure
from .verdicts import diagnosis_at, entity, exit_for, hint_text, pick

__all__ = ["not_found_rule", "shape_rule", "type_rule"]

_REQUEST_VALUE = re.compile(
    r"(?:query_params|args|form|query|searchParams|params|headers|cookies|environ)\.get\(|request\.(?:GET|POST)\b|getenv\(|"
    r"\b(?:req|request)\.(?:query|params|body|headers)\b"
)


def type_rule(inv: Investigation, ctx: CodeContext, failure: Failure) -> Diagnosis | None:
    """A value used as a number is text (an unconverted request parameter): convert and validate it."""
    if failure.kind not in ("type_mismatch", "parse_error"):
        return None
    target_type = failure.member if failure.member in ("int", "float") else "int"
    candidates = list(ctx.bindings)
    if failure.kind == "parse_error":
        op = pick(ctx.operations, "parse", line=ctx.line)
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
            hint = hint_text(
                FixStrategy.LLM_EDIT,
                kind="coerce_type",
                expression=binding.name,
                convert=target_type,
                origin=f"{binding.source} (line {binding.line})",
                origin_line=binding.line,
                line=ctx.line,
                exit="http_400",
            )
            diagnosis = diagnosis_at(ctx, FixStrategy.LLM_EDIT, cause, 0.8, hint)
            first = min(binding.line, ctx.statement_first) if ctx.statement_first - binding.line <= 5 else ctx.statement_first
            return diagnosis.adjusted(affected_lines=(first, ctx.statement_last), fixability=0.6)
    return None


_QUERY_READ = re.compile(r"\b(?:req|request)\.query\b")


def shape_rule(ctx: CodeContext, failure: Failure) -> Diagnosis | None:
    """A query value called with a method its shape lacks (``tag.toLowerCase is not a function``): Express and
    Node's ``querystring`` give a repeated parameter (``?tag=a&tag=b``) as an array and a single one as text, so
    the code's assumption holds only for some clients. Normalise the value where it is read."""
    if failure.kind != "not_callable" or not failure.expression or "." not in failure.expression:
        return None
    receiver, method = failure.expression.rsplit(".", 1)
    origin: str | None = None
    line = ctx.line
    if _QUERY_READ.search(receiver):
        origin = receiver
    else:
        binding = ctx.binding(receiver)
        if binding is not None and binding.value and _QUERY_READ.search(binding.value):
            origin, line = binding.value, binding.line
    if origin is None:
        return None
    cause = (
        f"`{receiver}` comes from the request's query (`{origin}`, line {line}), which is an array when the client "
        f"repeats the parameter and text when it sends it once; line {ctx.line} calls `.{method}` on it assuming one "
        "shape: read it as the shape the code uses, for both forms"
    )
    hint = hint_text(FixStrategy.LLM_EDIT, kind="query_shape", expression=receiver, origin_line=line, line=ctx.line)
    diagnosis = diagnosis_at(ctx, FixStrategy.LLM_EDIT, cause, 0.75, hint)
    first = min(line, ctx.statement_first) if ctx.statement_first - line <= 5 else ctx.statement_first
    return diagnosis.adjusted(affected_lines=(first, ctx.statement_last), fixability=0.6)


def not_found_rule(ctx: CodeContext, failure: Failure) -> Diagnosis | None:
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
    hint = hint_text(
        FixStrategy.NULL_GUARD,
        expression=name,
        lookup=lookup,
        replace_with=replacement,
        line=ctx.line,
        exit=exit_for(ctx),
        message=f"{entity(name or 'resource')} not found",
    )
    return diagnosis_at(ctx, FixStrategy.NULL_GUARD, cause, 0.8, hint)
