"""Origin rule: the bad value came from a callee in another file that a commit changed shortly before the issue.

The crash site only reads what the callee returned; the callee's contract changed (it can now return nothing).
The fix belongs at the origin: undo that commit's change to the callee. The guard at the crash site stays a
fallback candidate, and the validation keeps whichever reproduces and passes.
"""

from __future__ import annotations

from medic_contracts import Evidence, FixStrategy, LineRange, ValueOrigin

from ..code import CodeContext
from ..diagnosis import Diagnosis, Investigation
from .verdicts import STRATEGY_MINUTES, hint_text

__all__ = ["origin_rule"]


_NOTHING = ("None", "null", "undefined")


def _none_at_crash(inv: Investigation, ctx: CodeContext, name: str) -> bool:
    """The crashing frame's variables say ``name`` held nothing (the SDK sends them as reprs)."""
    for frame in inv.frames:
        if frame.line == ctx.line and (frame.file == ctx.file or frame.file.endswith("/" + ctx.file)) and name in frame.vars:
            return frame.vars[name].strip() in _NOTHING
    return False


def origin_rule(inv: Investigation, ctx: CodeContext, guard: Diagnosis | None, expression: str) -> Diagnosis | None:
    """Fix at the origin when the value that was nothing at the crash was bound from the recently changed callee.

    The value is the one the crashing frame's variables show as None/null/undefined; without variables, the one
    the guard rule worked out from the exception and the syntax tree.
    """
    origin = inv.origin
    if origin is None or guard is None:
        return None
    bound = [b for b in ctx.bindings if b.kind == "assignment" and b.calls == origin.callee]
    binding = next((b for b in bound if _none_at_crash(inv, ctx, b.name)), None)
    if binding is None and expression:
        named = ctx.binding(expression)
        binding = named if named is not None and named.calls == origin.callee else None
    if binding is None:
        return None
    suspect = inv.suspect
    if (
        suspect is not None
        and suspect.sha != origin.commit.sha
        and suspect.landed_before_first_seen
        and suspect.touches_fault_lines
    ):
        return None  # the crash site changed recently too: the crash-site rules decide
    commit = origin.commit
    cause = (
        f"`{binding.name}` is nothing at {ctx.file}:{ctx.line}: it comes from `{origin.callee}(…)` (line {binding.line}), "
        f"which can return nothing ({origin.file}:{origin.line}) since commit {commit.sha[:12]} "
        f'"{commit.subject[:120]}" ({commit.date:%Y-%m-%d %H:%M} UTC) changed it: '
        f"restore the callee's contract there (revert that commit's change to it)"
    )
    hint = hint_text(
        FixStrategy.PARTIAL_REVERT,
        commit=commit.sha,
        subject=commit.subject[:200],
        origin_file=origin.file,
        origin_lines=f"{origin.first}-{origin.last}",
        origin_function=origin.callee,
    )
    if guard.fix_hint and expression == binding.name:
        hint += "\n" + "\n".join(f"fallback_{line}" for line in guard.fix_hint.splitlines())
    return Diagnosis(
        root_cause=cause,
        affected_file=ctx.file,
        affected_lines=(ctx.statement_first, ctx.statement_last),
        affected_function=ctx.function.name if ctx.function else None,
        fix_strategy=FixStrategy.PARTIAL_REVERT,
        confidence=0.8,
        fixability=0.8,
        estimated_fix_minutes=STRATEGY_MINUTES[FixStrategy.PARTIAL_REVERT],
        fix_hint=hint,
        origin=ValueOrigin(
            file=origin.file,
            lines=LineRange(first=origin.first, last=max(origin.first, origin.last)),
            function=origin.callee,
            commit=commit.sha,
        ),
        evidence=(
            Evidence(
                kind="git_blame",
                summary=f"{origin.file}:{origin.line} last changed by {commit.sha[:12]}: {origin.text.strip()[:150]}",
                source=f"{origin.file}:{origin.first}-{origin.last}",
            ),
            Evidence(kind="code", summary=f"failing statement: {ctx.statement.strip()[:200]}", source=f"{ctx.file}:{ctx.line}"),
        ),
    )
