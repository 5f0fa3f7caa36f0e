"""Step 3, the callees: for functions whose results the fault uses, can they return nothing?"""

from __future__ import annotations

import re

from ..adapters.repo import Repository
from ..domain.callees import returns_nothing_at
from ..domain.code import CodeContext

__all__ = ["callee_behaviour"]

_NAME = re.compile(r"[A-Za-z_$][\w$]*")


async def callee_behaviour(repo: Repository, ctx: CodeContext) -> tuple[dict[str, str], list[str]]:
    """Evidence lines (``file:line: text``) per callee that can return nothing, and related definition hits."""
    found: dict[str, str] = {}
    related: list[str] = []
    names = {b.calls for b in ctx.bindings if b.calls and not b.may_be_missing}
    for name in sorted(n for n in names if n and _NAME.fullmatch(n)):
        patterns = [f"def {name}(", f"function {name}(", f"{name} = (", f"{name} = async (", f"async {name}(", f"const {name} ="]
        for pattern in patterns:
            hits = await repo.grep(pattern, max_hits=5)
            for hit in hits:
                related.append(f"{hit.file}:{hit.line}: {hit.text.strip()[:200]}")
                try:
                    source = repo.read_text(hit.file)
                except (OSError, ValueError):
                    continue
                nothing = returns_nothing_at(source, file=hit.file, line=hit.line + 1)
                if nothing is not None:
                    number, text = nothing
                    found[name] = f"{hit.file}:{number}: {text.strip()[:200]}"
                    break
            if name in found:
                break
    return found, related[:10]
