"""A cheap literal test in front of each redaction regex: the strings one of which every match must contain.

Read from the compiled pattern itself (its parse tree), so it holds for any rule, Medic's own or
detect-secrets', without a hand-written list: a regex runs only when ``any(lit in text for lit in
needs)``. A match needs those characters, so skipping the regex when none is present cannot change
what is redacted. Case-insensitive patterns and parts get no literal (they would need a case fold).
"""

from __future__ import annotations

import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser as sre  # type: ignore[attr-defined]
from typing import Any

__all__ = ["required_literals"]

_MAX_ALTERNATIVES = 6


def _better(alts: tuple[str, ...], best: tuple[str, ...] | None) -> bool:
    if best is None:
        return True
    return (min(map(len, alts)), -len(alts)) > (min(map(len, best)), -len(best))


def _needs(items: Any) -> tuple[str, ...] | None:
    """Alternatives one of which every match of the sequence ``items`` contains (None: nothing sure)."""
    best: tuple[str, ...] | None = None
    run: list[str] = []

    def consider(alts: tuple[str, ...] | None) -> None:
        nonlocal best
        if alts and all(alts) and len(alts) <= _MAX_ALTERNATIVES and _better(alts, best):
            best = alts

    for op, av in items:
        if op is c.LITERAL:
            run.append(chr(av))
            continue
        if run:
            consider(("".join(run),))
            run = []
        if op is c.IN:
            if all(o is c.LITERAL for o, _ in av):
                consider(tuple(dict.fromkeys(chr(v) for _, v in av)))
        elif op is c.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            if not add_flags & re.IGNORECASE:
                consider(_needs(sub))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, _high, sub = av
            if low >= 1:
                consider(_needs(sub))
        elif op is c.BRANCH:
            branches = [_needs(b) for b in av[1]]
            if all(branches):
                consider(tuple(dict.fromkeys(lit for alts in branches if alts for lit in alts)))
    if run:
        consider(("".join(run),))
    return best


def required_literals(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """Strings one of which every match of ``pattern`` contains; () when none can be read off safely."""
    if pattern.flags & re.IGNORECASE:
        return ()
    try:
        parsed = sre.parse(pattern.pattern, pattern.flags)
    except Exception:  # an unparsable pattern (never the case for a compiled one): no pre-filter, run the regex
        return ()
    return _needs(parsed.data) or ()
