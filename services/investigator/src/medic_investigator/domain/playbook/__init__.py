"""The offline playbook: rule-based diagnosis of the common error classes, no LLM.

Each rule reads the exception (``error_kinds``), the culprit statement's operations and bindings
(``code``) and the suspect commit, and names the root cause, the fix strategy, a hint for the
implementer, and a calibrated confidence: high when the failing operation and the origin of the
bad value are both found in the code, lower when only the operation is, low when neither is.
"""

from __future__ import annotations

import re

from medic_contracts import Evidence, FixStrategy

from ..code import root_name
from ..diagnosis import Diagnosis, Investigation
from ..error_kinds import classify
from .guards import guard_rule
from .origins import origin_rule
from .renames import rename_rule
from .requests import not_found_rule, shape_rule, type_rule
from .reverts import revert_diagnosis, strong_revert_reason
from .verdicts import STRATEGY_MINUTES, diagnosis_at, hint_text, pick

_REQUEST_BODY = re.compile(r"\b(?:request|req)\.(?:json|formData)\(\)")

__all__ = ["PLAYBOOK_VERSION", "playbook_diagnose"]

PLAYBOOK_VERSION = "playbook-1"


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
            estimated_fix_minutes=STRATEGY_MINUTES[FixStrategy.NEEDS_HUMAN],
            needs_human=True,
        )
    renamed = rename_rule(inv, ctx)
    if renamed is not None:
        return renamed
    suspect = inv.suspect
    recent = suspect is not None and suspect.landed_before_first_seen and suspect.touches_fault_lines
    guard = guard_rule(inv, ctx, failure) or not_found_rule(ctx, failure)
    expression = ""
    for line in (guard.fix_hint or "").splitlines() if guard else []:
        if line.startswith("expression: "):
            expression = root_name(line.removeprefix("expression: "))
    at_origin = origin_rule(inv, ctx, guard, expression)
    if at_origin is not None:
        return at_origin
    if recent:
        reason = strong_revert_reason(inv, ctx, failure, expression)
        if reason is not None:
            lead = guard.root_cause if guard else f"{exc_type}: {message[:200]}"
            revert = revert_diagnosis(inv, ctx, f"{lead}; {reason}", 0.85)
            if guard is not None and guard.fix_hint:
                # The fixer may try the guard too and keep whichever candidate passes the tests.
                extra = "\n".join(f"fallback_{line}" for line in guard.fix_hint.splitlines())
                revert = revert.adjusted(fix_hint=f"{revert.fix_hint}\n{extra}")
            return revert
    typed = type_rule(inv, ctx, failure) or shape_rule(ctx, failure)
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
        return revert_diagnosis(inv, ctx, reason, confidence)
    if failure.kind == "parse_error":
        op = pick(ctx.operations, "parse", line=ctx.line)
        body = _REQUEST_BODY.search(ctx.statement)
        if op is None and body is not None:
            return diagnosis_at(
                ctx,
                FixStrategy.LLM_EDIT,
                f"the request body does not parse when line {ctx.line} reads it with `{body.group(0)}` ({message[:120]}): "
                "a client sent a body that is not valid JSON, which is bad input: answer 400",
                0.75,
                hint_text(FixStrategy.LLM_EDIT, expression=body.group(0), line=ctx.line, exit="http_400"),
            )
        if op is not None:
            return diagnosis_at(
                ctx,
                FixStrategy.LLM_EDIT,
                f"`{op.base}` does not hold a valid value for `{op.member}` when line {ctx.line} parses it ({message[:120]})",
                0.7,
                hint_text(FixStrategy.LLM_EDIT, expression=op.text, value=op.base, line=ctx.line, exit="http_400"),
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
        estimated_fix_minutes=STRATEGY_MINUTES[FixStrategy.NEEDS_HUMAN],
        needs_human=True,
        evidence=(
            Evidence(kind="code", summary=f"failing statement: {ctx.statement.strip()[:200]}", source=f"{ctx.file}:{ctx.line}"),
        ),
    )
