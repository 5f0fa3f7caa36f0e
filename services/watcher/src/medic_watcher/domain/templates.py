"""Log-template mining: turn free-text log lines into stable templates with variables masked.

Two steps, both general (no per-system tuning):

1. **Masking** (:func:`mask_tokens`): dates and times in the common formats (``Mon Mar  3
   10:00:00 2025``, ``2025-03-03T10:00:00Z``, ``03/Mar/2025:10:00:00``, ``Dec 10 06:55:46``) are
   one variable; every delimiter-separated part of a token that holds a digit is a variable (ids,
   numbers, hashes, IPs, ports, versions), as are quoted values; runs of variables joined by
   punctuation collapse into one, and so do consecutive masked tokens (variable-length lists)
   and units following a number (``5.2 KB``), and a meridiem following a time (``10:00:00 PM``).
2. **Merging** (:class:`TemplateMiner`): masked templates of the same length that differ in one
   position (the rest of the template is their shared skeleton) merge when that position is
   evidently variable. The criterion is statistical: the position has taken at least
   ``min_distinct`` different values under the same skeleton (user names, hosts, file names: a
   high-cardinality position), or one of its values was masked, or all are paths, or all share a
   ``key=``/``key:`` prefix (the value is the variable, unless the values are ENUM_LIKE
   constants), or at least two of its values were already seen as variables elsewhere, or at
   least ``min_shared`` of its values also fill one position of another skeleton (value
   dispersion: an entity such as a user turns up in several events, an event word such as
   ``Started`` in its own; four users who log in and log out are a variable, ``opened`` /
   ``closed`` under every user's skeleton are two values shared and stay events). A
   position with fewer distinct values stays constant (``VM Started`` / ``VM Paused`` / ``VM
   Stopped``: a handful of values under one skeleton are events, dozens are a variable); the
   threshold is chosen by leave-one-system-out cross-validation (``medic bench grouping --cv``),
   never on the system being scored.

The miner is online: each line gets a cluster id at once; clusters only ever merge into the
older one, so an id handed out stays meaningful. Once a position is variable, new values at it
join the cluster without being stored, so a stream of fresh values holds no new state; the rest
is bounded by ``max_templates``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .template_shape import WordShape

__all__ = ["MASK", "MinedTemplate", "TemplateMiner", "mask_text", "mask_tokens"]

MASK = "<*>"
_DELIMS = r"=:,()\[\]{}\"'/@;|<>.#\s"
# Anchored at part starts (the look-behind) and digit-free up to the first digit: no backtracking.
_VARIABLE_PART = re.compile(rf"(?<![^{_DELIMS}])[^{_DELIMS}\d]*\d[^{_DELIMS}]*")
_QUOTED = re.compile(r"(?<![\w])'[^'\s]{1,200}'(?![\w])|(?<![\w])\"[^\"\s]{1,200}\"(?![\w])")
_RUN = re.compile(r"<\*>(?:[=:,.\-/#@;|]+<\*>)+")
_UNITS = frozenset({"B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "ms", "us", "µs", "ns", "s", "sec", "secs"})
# A 12-hour clock's meridiem belongs to the time before it (``03/04/2025 10:00:00 PM``): AM and PM would split one event.
_MERIDIEM = frozenset({"AM", "PM", "am", "pm", "a.m.", "p.m.", "A.M.", "P.M."})
_KEY_PREFIX = re.compile(r"^([^=:]*[=:])")
_ENUM = re.compile(r"^[A-Z][A-Z0-9_]+$")


_DIGIT = re.compile(r"\d")
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:\s?[AaPp][Mm]\b)?(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})\b)?"
# Dates whose words carry no digit (weekday, month names) would split one event into many: mask the whole date.
_DATE = re.compile(
    rf"(?<![\w])(?:"
    rf"(?:{_WEEKDAY}\s+)?{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?(?:\s+\d{{4}})?(?:,?\s+{_CLOCK})?(?:\s+\d{{4}})?"
    rf"|(?:{_WEEKDAY}\s+)?\d{{1,2}}[ /-]{_MONTH}[ /-]\d{{2,4}}(?:[\s:]{_CLOCK})?"
    rf"|\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}(?:[T\s]{_CLOCK})?"
    rf")(?![\w])"
)
# Every date _DATE matches holds a month name or a numeric date: substring tests and one short regex
# decide that far faster than one alternation tried at every position.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NUMERIC_DATE = re.compile(r"\d{4}[-/.]\d")
# Which digit a token holds never changes its mask (every part with a digit is masked whole), so
# tokens are cached under their shape with every digit a 0: fresh ids of one shape share an entry.
_ZEROS = str.maketrans("123456789", "000000000")


def _may_hold_date(text: str) -> bool:
    for month in _MONTHS:
        if month in text:
            return True
    return _NUMERIC_DATE.search(text) is not None


def _mask_token(token: str) -> str:
    if _DIGIT.search(token) is not None:
        token = _VARIABLE_PART.sub(MASK, token)
        if MASK in token:
            token = _RUN.sub(MASK, token)
    if "'" in token or '"' in token:
        token = _QUOTED.sub(MASK, token)
    return token


def mask_tokens(text: str, *, max_chars: int = 4096, cache: dict[str, str] | None = None) -> tuple[str, ...]:
    """The masked token sequence of one line (the line is cut at ``max_chars`` first).

    ``cache`` (token or digit shape -> masked token) speeds up repeated words and id shapes; it
    holds at most ``_CACHE_LIMIT`` entries.
    """
    if len(text) > max_chars:
        text = text[:max_chars]
    if _may_hold_date(text):
        text = _DATE.sub(MASK, text)
    tokens: list[str] = []
    previous_masked = False
    for raw in text.split():
        token = cache.get(raw) if cache is not None else None
        if token is None:
            shape = raw.translate(_ZEROS)
            token = cache.get(shape) if cache is not None and shape != raw else None
            if token is None:
                token = _mask_token(shape)
                if cache is not None and len(cache) < _CACHE_LIMIT:
                    cache[shape] = token
        if previous_masked and (token == MASK or token.rstrip(",;.") in _UNITS or token.rstrip(",;") in _MERIDIEM):
            continue  # variable-length lists and units after numbers belong to the variable before
        tokens.append(token)
        previous_masked = token == MASK
    return tuple(tokens)


_CACHE_LIMIT = 20_000
_SHAPE_WORDS = 256  # longer lines keep no word shape (their template is the masked pattern)


def mask_text(text: str, *, max_chars: int = 4096) -> str:
    """The masked template of one line as text (what a message-template fingerprint hashes)."""
    return " ".join(mask_tokens(text, max_chars=max_chars))


@dataclass(frozen=True, slots=True)
class MinedTemplate:
    """The cluster a line fell into: a stable id and the current template text."""

    cluster_id: int
    template: str
    key: str  # the cluster's first template: stable while the cluster's text widens


#: Distinct values under one skeleton that make a position variable: chosen by leave-one-system-out
#: cross-validation on the shared Loghub systems (``medic bench grouping --cv`` prints the choice).
DEFAULT_MIN_DISTINCT = 6
#: Values one position shares with a position of another skeleton that make both variable (entities
#: recur across events, event words do not); chosen the same way as ``DEFAULT_MIN_DISTINCT``.
DEFAULT_MIN_SHARED = 3


def _is_variable_position(values: Iterable[str], vocabulary: set[str], min_distinct: int) -> bool:
    vals = list(values)
    if len(vals) >= min_distinct:
        return True  # high cardinality under a fixed skeleton: a variable, whatever its words look like
    if any(MASK in v for v in vals):
        return True
    if all("/" in v for v in vals):
        return True
    prefixes = {m.group(1) if (m := _KEY_PREFIX.match(v)) else None for v in vals}
    if len(prefixes) == 1 and None not in prefixes:
        prefix = next(iter(prefixes))
        assert prefix is not None
        if not any(_ENUM.match(v[len(prefix) :].rsplit(".", 1)[-1]) for v in vals):
            return True
    return sum(1 for v in vals if v in vocabulary) >= 2


def _value_of(token: str) -> str:
    match = _KEY_PREFIX.match(token)
    return token[len(match.group(1)) :] if match else token


class TemplateMiner:
    """Online template miner: ``add(line)`` returns the line's cluster (see module docstring)."""

    def __init__(
        self,
        *,
        max_templates: int = 50_000,
        max_chars: int = 4096,
        min_distinct: int = DEFAULT_MIN_DISTINCT,
        min_shared: int = DEFAULT_MIN_SHARED,
    ) -> None:
        self.max_templates = max_templates
        self.max_chars = max_chars
        self.min_distinct = max(2, min_distinct)
        self.min_shared = max(2, min_shared)
        self._ids: dict[tuple[str, ...], int] = {}
        self._parent: list[int] = []
        self._pattern: dict[int, tuple[str, ...]] = {}  # root id -> merged template
        self._buckets: dict[tuple[int, tuple[str, ...]], dict[str, list[int]]] = {}
        self._pending: dict[str, set[tuple[int, tuple[str, ...]]]] = {}  # value -> undecided buckets holding it
        self._decided: set[tuple[int, tuple[str, ...]]] = set()
        self._vocabulary: set[str] = set()
        self._token_cache: dict[str, str] = {}
        self._first: list[tuple[str, ...]] = []
        self._shape: dict[int, WordShape] = {}  # root id -> the words its lines wrote

    def export(self) -> list[list[str]]:
        """The learned templates in learning order: replaying them rebuilds the same clusters."""
        return [list(t) for t in self._first]

    @classmethod
    def restore(
        cls,
        templates: list[list[str]],
        *,
        max_templates: int = 50_000,
        min_distinct: int = DEFAULT_MIN_DISTINCT,
        min_shared: int = DEFAULT_MIN_SHARED,
    ) -> TemplateMiner:
        """A miner that learned ``templates`` (from :meth:`export`) in the same order."""
        miner = cls(max_templates=max_templates, min_distinct=min_distinct, min_shared=min_shared)
        for tokens in templates[:max_templates]:
            key = tuple(str(t) for t in tokens)
            if key not in miner._ids:
                miner._learn(key)
        return miner

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, line: str) -> MinedTemplate:
        """Mine one line: its cluster id and the cluster's template."""
        tokens = mask_tokens(line, max_chars=self.max_chars, cache=self._token_cache)
        known = self._ids.get(tokens)
        if known is None:
            known = self._decided_cluster(tokens)
        if known is None:
            if len(self._ids) >= self.max_templates:
                # Full: answer without learning, so memory stays bounded; the id is a stable hash slot.
                text = " ".join(tokens)
                return MinedTemplate(cluster_id=-1 - (hash(tokens) & 0x7FFFFFFF), template=text, key=text)
            known = self._learn(tokens)
        root = self._find(known)
        self._observe(root, line)
        return MinedTemplate(cluster_id=root, template=" ".join(self._pattern[root]), key=" ".join(self._first[root]))

    def cluster_id(self, line: str) -> int:
        """Just the cluster id of ``line`` (the benchmark's hot path)."""
        tokens = mask_tokens(line, max_chars=self.max_chars, cache=self._token_cache)
        known = self._ids.get(tokens)
        if known is None:
            known = self._decided_cluster(tokens)
        if known is None:
            if len(self._ids) >= self.max_templates:
                return -1 - (hash(tokens) & 0x7FFFFFFF)
            known = self._learn(tokens)
        root = self._find(known)
        self._observe(root, line)
        return root

    def resolve(self, cluster_id: int) -> int:
        """The current cluster of an id handed out earlier (clusters merge into older ones)."""
        return cluster_id if cluster_id < 0 else self._find(cluster_id)

    def template(self, cluster_id: int) -> str | None:
        """The template of a cluster as its lines' own words: ``None`` for an unlearned slot.

        Each word that stayed the same in every line of the cluster (with the first line's word
        count) is kept verbatim, even one with a digit (``ssh2``, ``jk2_init()``); each word that
        varied shows as its masked form, or as ``<*>`` when it has no digit (a user name). A
        cluster whose lines never kept one word count falls back to the masked pattern.
        """
        if cluster_id < 0:
            return None
        root = self._find(cluster_id)
        shape = self._shape.get(root)
        return " ".join(self._pattern[root]) if shape is None else shape.render()

    # ---- internals ----------------------------------------------------------------------------

    def _find(self, tid: int) -> int:
        parent = self._parent
        while parent[tid] != tid:
            parent[tid] = parent[parent[tid]]
            tid = parent[tid]
        return tid

    def _observe(self, root: int, line: str) -> None:
        # Which words of the cluster's lines never change: what :meth:`template` shows verbatim.
        words = line[: self.max_chars].split()
        shape = self._shape.get(root)
        if shape is not None:
            shape.observe(words)
        elif len(words) <= _SHAPE_WORDS:
            self._shape[root] = WordShape.of(words)

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return
        keep, gone = (ra, rb) if ra < rb else (rb, ra)
        self._parent[gone] = keep
        pa, pb = self._pattern.pop(gone), self._pattern[keep]
        self._pattern[keep] = tuple(x if x == y else MASK for x, y in zip(pb, pa, strict=True))
        kept, merged = self._shape.get(keep), self._shape.pop(gone, None)
        if kept is not None and merged is not None:
            kept.merge(merged)

    def _decided_cluster(self, tokens: tuple[str, ...]) -> int | None:
        # A new value at a position already known variable joins that cluster and is not stored:
        # fresh user names or hosts cost no memory.
        if not self._decided:
            return None
        for pos in range(len(tokens)):
            key = (pos, tokens[:pos] + tokens[pos + 1 :])
            if key in self._decided:
                return next(iter(self._buckets[key].values()))[0]
        return None

    def _sibling(self, key: tuple[int, tuple[str, ...]], bucket: dict[str, list[int]]) -> tuple[int, tuple[str, ...]] | None:
        # Value dispersion: an event word (``Started``) fills one position of one event; an entity
        # (a user, a host) turns up in several events. ``min_shared`` values filling this position
        # and one position of another, still undecided skeleton make both variable.
        if len(bucket) < self.min_shared:
            return None
        shared: dict[tuple[int, tuple[str, ...]], int] = {}
        for value in bucket:
            for other in self._pending.get(_value_of(value), ()):
                if other != key and other not in self._decided:
                    shared[other] = shared.get(other, 0) + 1
                    if shared[other] >= self.min_shared and len(self._buckets[other]) >= self.min_shared:
                        return other
        return None

    def _learn(self, tokens: tuple[str, ...]) -> int:
        tid = len(self._parent)
        self._ids[tokens] = tid
        self._first.append(tokens)
        self._parent.append(tid)
        self._pattern[tid] = tokens
        constants = sum(1 for t in tokens if MASK not in t)
        for pos, value in enumerate(tokens):
            # A key needs a constant word besides the varying one, or everything short would merge.
            if constants - (MASK not in value) < 1:
                continue
            # The rest of the template (its length fixes the template's length) plus the varying position.
            key = (pos, tokens[:pos] + tokens[pos + 1 :])
            bucket = self._buckets.setdefault(key, {})
            bucket.setdefault(value, []).append(tid)
            self._evaluate(key, bucket)
        return tid

    def _evaluate(self, key: tuple[int, tuple[str, ...]], bucket: dict[str, list[int]]) -> None:
        if len(bucket) < 2:
            return
        if key in self._decided:
            # Already variable: the newcomer joins the cluster.
            first = next(iter(bucket.values()))[0]
            for ids in bucket.values():
                self._union(first, ids[0])
            return
        if not _is_variable_position(bucket, self._vocabulary, self.min_distinct):
            sibling = self._sibling(key, bucket)
            for value in bucket:
                self._pending.setdefault(_value_of(value), set()).add(key)
            if sibling is None:
                return
            self._decided.add(sibling)  # the values are entities seen in two events: both positions vary
            self._evaluate(sibling, self._buckets[sibling])
            if key in self._decided:
                return
        self._decided.add(key)
        first = next(iter(bucket.values()))[0]
        new_words = []
        for value, ids in bucket.items():
            self._union(first, ids[0])
            word = _value_of(value)
            if word not in self._vocabulary and MASK not in word:
                self._vocabulary.add(word)
                new_words.append(word)
        # Words just learned as variables may settle buckets that were undecided.
        for word in new_words:
            for pending in self._pending.pop(word, set()):
                if pending not in self._decided:
                    self._evaluate(pending, self._buckets[pending])
