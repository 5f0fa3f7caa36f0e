"""Which template fixer applies to a file, and the lines it should try (the diagnosed line first)."""

from __future__ import annotations

from medic_contracts import DiagnosisReady

from .failure import read_failure
from .fixers.edits import TemplateEdit
from .fixers.python import python_template_fixes
from .fixers.typescript import typescript_template_fixes

__all__ = ["lines_to_try", "template_edits"]

_SCRIPT_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")


def lines_to_try(diagnosis: DiagnosisReady) -> list[int]:
    """The affected lines in the order to try them; empty when the diagnosis names none."""
    rng = diagnosis.affected_lines
    if rng is None:
        return []
    last = max(rng.first, rng.last)
    # The diagnosed line first (SDKs report the failing line as the range's end as often as its start).
    ordered = [last, *range(rng.first, last)] if last - rng.first <= 40 else [last, rng.first]
    return list(dict.fromkeys(ordered))


def template_edits(diagnosis: DiagnosisReady, text: str, path: str, language: str) -> list[TemplateEdit]:
    """The template fixes for ``path`` (holding ``text``), best suited first; none for other languages."""
    facts = read_failure(diagnosis)
    lines = lines_to_try(diagnosis)
    if path.endswith(".py"):
        return python_template_fixes(path=path, text=text, lines=lines, facts=facts)
    if path.endswith(_SCRIPT_SUFFIXES) or language in ("typescript", "javascript"):
        return typescript_template_fixes(path=path, text=text, lines=lines, facts=facts)
    return []
