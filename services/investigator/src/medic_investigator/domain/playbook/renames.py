"""Rename rule: the error names a missing name and the history search found the commit that removed or renamed it.

A clean rename (one definition added in the same file with the same signature) means the crashing line is a
caller the commit missed: update it to the new name (the fixer also tries reverting the commit, and the
validation keeps whichever reproduces and passes). A plain removal means the commit itself is to undo.
"""

from __future__ import annotations

from medic_contracts import Evidence, FixStrategy

from ..code import CodeContext
from ..diagnosis import Diagnosis, Investigation
from ..name_history import missing_name
from .verdicts import STRATEGY_MINUTES, hint_text

__all__ = ["rename_rule"]


def rename_rule(inv: Investigation, ctx: CodeContext) -> Diagnosis | None:
    """The diagnosis of a missed caller (or of a removed definition), when the suspect commit explains the name."""
    suspect = inv.suspect
    change = suspect.name_change if suspect is not None else None
    exc = inv.exception
    missing = missing_name(exc.type, exc.value or "") if exc is not None else None
    if suspect is None or change is None or missing is None or missing.name != change.name:
        return None
    when = f"({suspect.date:%Y-%m-%d %H:%M} UTC)"
    commit = f'commit {suspect.sha[:12]} "{suspect.subject[:120]}" {when}'
    where = f"{ctx.file}:{ctx.line}"
    if change.new_name is not None:
        strategy = FixStrategy.PARTIAL_REVERT  # finish the commit's rename at the missed caller (or undo it)
        cause = (
            f"`{change.name}` no longer exists: {commit} renamed it to `{change.new_name}` in {change.file}"
            f" and missed this caller ({where}); update the caller to `{change.new_name}`"
        )
        confidence = 0.85 if suspect.name_change_clean else 0.7
    else:
        strategy = FixStrategy.REVERT_COMMIT
        cause = f"`{change.name}` no longer exists: {commit} removed its definition from {change.file}; revert it"
        confidence = 0.7
    hint = hint_text(
        strategy,
        commit=suspect.sha,
        subject=suspect.subject[:200],
        missing_name=change.name,
        new_name=change.new_name,
        defined_in=change.file,
        file=ctx.file,
        lines=f"{ctx.statement_first}-{ctx.statement_last}",
    )
    return Diagnosis(
        root_cause=cause,
        affected_file=ctx.file,
        affected_lines=(ctx.statement_first, ctx.statement_last),
        affected_function=ctx.function.name if ctx.function else None,
        fix_strategy=strategy,
        confidence=confidence,
        fixability=0.85 if change.new_name is not None else 0.7,
        estimated_fix_minutes=STRATEGY_MINUTES[strategy],
        fix_hint=hint,
        evidence=(
            Evidence(
                kind="git_log",
                summary=(
                    f"git log -S {change.name}: {suspect.sha[:12]} "
                    + (f"renamed it to {change.new_name}" if change.new_name else "removed its definition")
                    + f" in {change.file}"
                ),
                source=change.file,
            ),
            Evidence(kind="code", summary=f"failing statement: {ctx.statement.strip()[:200]}", source=where),
        ),
    )
