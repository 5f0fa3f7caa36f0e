"""The words of a template as its lines wrote them: which stayed constant, what varied.

The miner's cluster key is a masked, collapsed token sequence (good for grouping, poor for
reading: ``ssh2`` and ``jk2_init()`` hold digits, so they are masked). A :class:`WordShape`
follows the cluster's lines of its first line's word count and renders a template from them:
a word constant in every line is kept (a word with a digit only once repeated: one line proves
nothing constant), a word that varied keeps only the structure its values share (``rhost=<*>``,
``[<*>]``), and file paths and URLs are variables, as log-parsing ground truth labels them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["WordShape"]

MASK = "<*>"
_DIGIT = re.compile(r"\d")
_LETTERS = re.compile(r"[A-Za-z]")
# Delimiters that are structure, not value: what a shared prefix or suffix is cut back to.
_STRUCTURE = re.compile(r"([\s,!;:=|\"'\[\](){}])")
_EVIDENCE = 3  # lines of one shape before a word with a digit counts as constant


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


def _common_suffix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        n += 1
    return a[len(a) - n :] if n else ""


def _is_path(piece: str) -> bool:
    return piece.count("/") >= 2 or "://" in piece


def _constant(word: str) -> str:
    return "".join(MASK if _is_path(p) else p for p in _STRUCTURE.split(word))


def _varied(prefix: str, suffix: str) -> str:
    head = _STRUCTURE.split(prefix)
    tail = _STRUCTURE.split(suffix)
    # Keep the shared prefix up to its last delimiter and the shared suffix from its first one.
    kept_head = "".join(head[:-1]) if len(head) > 1 else ""
    kept_tail = "".join(tail[1:]) if len(tail) > 1 else ""
    return _constant(kept_head) + MASK + _constant(kept_tail)


@dataclass(slots=True)
class WordShape:
    """Per word position of a cluster's first line: its first value, and the prefix/suffix all values shared."""

    words: list[str]
    prefix: list[str | None] = field(default_factory=list)  # None: still constant
    suffix: list[str] = field(default_factory=list)
    lines: int = 1

    @classmethod
    def of(cls, words: list[str]) -> WordShape:
        """The shape of a cluster's first line."""
        return cls(words=words, prefix=[None] * len(words), suffix=[""] * len(words))

    def observe(self, words: list[str]) -> None:
        """Fold one more line of the cluster in (lines of another word count are ignored)."""
        if len(words) != len(self.words):
            return
        self.lines += 1
        if words == self.words:
            return
        for i, word in enumerate(words):
            first = self.words[i]
            if word == first:
                continue
            known = self.prefix[i]
            if known is None:
                self.prefix[i] = _common_prefix(first, word)
                self.suffix[i] = _common_suffix(first, word)
            elif known or self.suffix[i]:  # nothing shared is left to narrow once both are empty
                if not word.startswith(known):
                    self.prefix[i] = _common_prefix(known, word)
                if not word.endswith(self.suffix[i]):
                    self.suffix[i] = _common_suffix(self.suffix[i], word)

    def merge(self, other: WordShape) -> None:
        """Fold another cluster's shape in (clusters merging); shapes of another word count are ignored."""
        if len(other.words) != len(self.words):
            return
        self.observe(other.words)
        self.lines += other.lines - 1
        for i, known in enumerate(other.prefix):
            if known is not None:
                mine = self.prefix[i]
                self.prefix[i] = known if mine is None else _common_prefix(mine, known)
                self.suffix[i] = other.suffix[i] if mine is None else _common_suffix(self.suffix[i], other.suffix[i])

    def render(self) -> str:
        """The template: constant words kept, varied words reduced to their shared structure."""
        out = []
        for i, word in enumerate(self.words):
            prefix = self.prefix[i]
            if prefix is None and (_DIGIT.search(word) is None or (self.lines >= _EVIDENCE and _is_name(word))):
                out.append(_constant(word))
            elif prefix is None:
                out.append(_varied_single(word))
            else:
                out.append(_varied(prefix, self.suffix[i]))
        return " ".join(out)


def _is_name(word: str) -> bool:
    # A few digits among letters name a thing (ssh2, jk2_init(), sha256); many are a value that happened not to vary.
    return len(_DIGIT.findall(word)) <= 3 and len(_LETTERS.findall(word)) >= 2 * len(_DIGIT.findall(word))


def _varied_single(word: str) -> str:
    # Seen too few times to tell: the pieces holding digits are the variables.
    return "".join(MASK if _DIGIT.search(p) or _is_path(p) else p for p in _STRUCTURE.split(word))
