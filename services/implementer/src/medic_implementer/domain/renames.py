"""The caller update after a rename: a missed caller of a renamed function moved to the new name.

The names come from the diagnosis (history search over error text): both must be plain identifiers, the new
name must be defined in the file the commit renamed it in, and the caller must not define the old name itself.
Only references that mean the renamed definition change: ``owner.old`` (the module or the import alias the
error read it from), the name in an import from that module, and bare uses of a name imported without an alias.
Strings and comments never change (Python through :mod:`tokenize`, TypeScript through a small scanner).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

__all__ = ["CallerUpdate", "caller_update", "defines", "is_identifier"]

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,127}")
_DOTTED = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*")


def is_identifier(text: str | None) -> bool:
    """True for a plain ASCII identifier (Python or JavaScript)."""
    return text is not None and _IDENT.fullmatch(text) is not None


def defines(text: str, name: str) -> bool:
    """True when ``text`` (a Python or TS/JS module) defines ``name`` at the start of a line."""
    if not is_identifier(name):
        return False
    n = re.escape(name)
    pattern = re.compile(
        rf"^[ \t]*(?:(?:async[ \t]+)?def[ \t]+{n}[ \t]*\(|class[ \t]+{n}\b|{n}[ \t]*(?::[^=\n]+)?=(?!=))"
        rf"|^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:async[ \t]+)?function[ \t]*\*?[ \t]*{n}[ \t]*[<(]"
        rf"|^[ \t]*(?:export[ \t]+)?(?:const|let|var)[ \t]+{n}[ \t]*[:=]"
        rf"|^[ \t]*(?:export[ \t]+)?(?:abstract[ \t]+)?class[ \t]+{n}\b"
        rf"|^[ \t]*export[ \t]*\{{[^}}]*\b{n}\b"
        rf"|^[ \t]*(?:module\.)?exports\.{n}[ \t]*=(?!=)",
        re.MULTILINE,
    )
    return pattern.search(text) is not None


@dataclass(frozen=True, slots=True)
class CallerUpdate:
    """The caller's new text and how many references moved to the new name."""

    text: str
    references: int


def caller_update(text: str, *, path: str, old: str, new: str, owner: str | None) -> CallerUpdate | None:
    """``text`` with its references to the renamed ``old`` moved to ``new``; None when there is nothing safe to change."""
    if not (is_identifier(old) and is_identifier(new)) or old == new:
        return None
    if owner is not None and _DOTTED.fullmatch(owner) is None:
        owner = None
    if defines(text, old):
        return None  # the caller defines the old name itself: not a missed caller
    spans = _python_spans(text, old, owner) if path.endswith(".py") else _script_spans(text, old, owner)
    if not spans:
        return None
    out = text
    for start, end in sorted(spans, reverse=True):
        out = out[:start] + new + out[end:]
    return CallerUpdate(out, len(spans))


# ---- Python ------------------------------------------------------------------------------------------


def _python_spans(text: str, old: str, owner: str | None) -> list[tuple[int, int]]:
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in _TRIVIA]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    starts = _line_offsets(text)

    def offset(tok: tokenize.TokenInfo) -> int:
        return starts[tok.start[0] - 1] + tok.start[1]

    aliases: set[str] = set()
    imported_bare = False
    spans: list[tuple[int, int]] = []
    last = owner.rsplit(".", 1)[-1] if owner else None
    parent = owner.rsplit(".", 1)[0] if owner and "." in owner else ""
    if last:
        aliases.add(last)
    # Imports: which local names mean the owner module, and whether ``old`` itself was imported from it.
    for stmt in _statements(tokens):
        head = stmt[0].string
        if head == "import" and owner is not None:
            aliases.update(alias or name.rsplit(".", 1)[-1] for name, alias, _ in _import_items(stmt[1:]) if name == owner)
        elif head == "from" and len(stmt) >= 4:
            at = _index(stmt, "import")
            module = "".join(t.string for t in stmt[1:at])
            items = _import_items(stmt[at + 1 :])
            if owner is None or _same_module(module, owner):
                for name, alias, tok in items:
                    if name == old:
                        spans.append((offset(tok), offset(tok) + len(old)))
                        imported_bare = imported_bare or alias is None
            elif last and parent and _same_module(module, parent):
                aliases.update(alias or name for name, alias, _ in items if name == last)
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string != old:
            continue
        span = (offset(tok), offset(tok) + len(old))
        if span in spans:
            continue
        prev = tokens[i - 1] if i > 0 else None
        if prev is not None and prev.string == ".":
            base = tokens[i - 2] if i > 1 else None
            if base is not None and base.type == tokenize.NAME and base.string in aliases:
                spans.append(span)
        elif imported_bare and (prev is None or prev.string not in ("def", "class", "as", "import")):
            spans.append(span)
    return spans


_TRIVIA = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}


def _line_offsets(text: str) -> list[int]:
    offsets, total = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append(total)
        total += len(line)
    offsets.append(total)
    return offsets


def _statements(tokens: list[tokenize.TokenInfo]) -> list[list[tokenize.TokenInfo]]:
    out: list[list[tokenize.TokenInfo]] = [[]]
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or tok.string == ";":
            out.append([])
        elif tok.string not in ("(", ")", ","):
            out[-1].append(tok)
    return [s for s in out if s]


def _index(stmt: list[tokenize.TokenInfo], word: str) -> int:
    return next((i for i, t in enumerate(stmt) if t.type == tokenize.NAME and t.string == word), len(stmt))


def _same_module(module: str, owner: str) -> bool:
    """``from X import`` names the owner: the same dotted path, or a relative import ending in it."""
    if not module or not owner:
        return False
    return module == owner or (module.startswith(".") and owner.endswith("." + module.lstrip(".")))


def _import_items(toks: list[tokenize.TokenInfo]) -> list[tuple[str, str | None, tokenize.TokenInfo]]:
    """The (dotted name, alias, first token) items of an import list (commas and parentheses already dropped)."""
    items: list[tuple[str, str | None, tokenize.TokenInfo]] = []
    i = 0
    while i < len(toks):
        if toks[i].type != tokenize.NAME:
            i += 1
            continue
        first, name = toks[i], toks[i].string
        i += 1
        while i + 1 < len(toks) and toks[i].string == "." and toks[i + 1].type == tokenize.NAME:
            name += "." + toks[i + 1].string
            i += 2
        alias = None
        if i + 1 < len(toks) and toks[i].string == "as" and toks[i + 1].type == tokenize.NAME:
            alias = toks[i + 1].string
            i += 2
        items.append((name, alias, first))
    return items


# ---- TypeScript / JavaScript ---------------------------------------------------------------------------

_SCRIPT_TOKEN = re.compile(
    r"(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<string>'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`)"
    r"|(?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)"
    r"|(?P<punct>\S)",
    re.DOTALL,
)


def _script_spans(text: str, old: str, owner: str | None) -> list[tuple[int, int]]:
    toks = [(m.lastgroup or "", m.group(0), m.start()) for m in _SCRIPT_TOKEN.finditer(text)]
    code = [t for t in toks if t[0] != "comment"]
    spans: list[tuple[int, int]] = []
    imported_bare = False
    i = 0
    # import { a, old as x } from "...": the name in the braces always moves; bare uses only without an alias.
    while i < len(code):
        kind, value, _ = code[i]
        if kind == "ident" and value == "import" and i + 1 < len(code) and code[i + 1][1] in ("{", "type"):
            j = i + 1
            while j < len(code) and code[j][1] != "{":
                j += 1
            k = j + 1
            while k < len(code) and code[k][1] != "}":
                if code[k][0] == "ident" and code[k][1] == old and code[k - 1][1] != "as":
                    spans.append((code[k][2], code[k][2] + len(old)))
                    imported_bare = imported_bare or not (k + 1 < len(code) and code[k + 1][1] == "as")
                k += 1
            i = k
        i += 1
    for n, (kind, value, start) in enumerate(code):
        if kind != "ident" or value != old or (start, start + len(old)) in spans:
            continue
        prev = code[n - 1] if n > 0 else None
        if prev is not None and prev[1] == "." and n > 1:
            base = code[n - 2]
            if owner is not None and base[0] == "ident" and base[1] == owner.rsplit(".", 1)[-1]:
                spans.append((start, start + len(old)))
        elif imported_bare and (prev is None or prev[1] not in ("function", "const", "let", "var", "class", "as")):
            nxt = code[n + 1][1] if n + 1 < len(code) else ""
            if nxt != ":" or (prev is not None and prev[1] in ("(", ",", "=", "return", "?")):
                spans.append((start, start + len(old)))
    return spans
