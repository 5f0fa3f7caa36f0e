"""Log-parsing accuracy metrics: GA (logparser) and Loghub-2.0's FGA, PA and FTA.

Written from the definitions in Jiang et al., "A Large-Scale Evaluation for Log Parsing
Techniques: How Far Are We?" (ISSTA 2024), and Khan et al. (ICSE 2022) for the template
normalisation both sides go through before templates are compared:

- **GA** (grouping accuracy, message level): the share of lines whose predicted group holds
  exactly the lines of their ground-truth group.
- **FGA** (F1 of grouping accuracy, template level): a predicted group is correct when its line
  set equals one ground-truth group's; precision = correct / predicted groups, recall =
  correct / ground-truth groups.
- **PA** (parsing accuracy, message level): the share of lines whose predicted template string
  equals the ground-truth template after normalisation.
- **FTA** (F1 of template accuracy, template level): a predicted template is correct when its
  group is correct *and* its template string equals the ground truth's.

Lines whose ground-truth id is empty are dropped first, as logparser's evaluator does.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = ["ParsingScores", "f1", "grouping_accuracy", "normalise_template", "score_parsing"]

_TOKEN_DELIMITERS = re.compile(r"(\s|,|!|;|:|=|\||\"|'|\[|\]|\(|\)|\{|\}|\.|-|\+|@|#|\$|%|&)")
_DIGITS = re.compile(r"^\d+$")
_HOLDS_VARIABLE = re.compile(r"^[^\s/]*<\*>[^\s/]*$")
_VARIABLE = "<*>"
_FOLDS = ("<*>:<*>", "<*>#<*>", "<*>/<*>", "<*>@<*>", "<*>.<*>", "<*><*>")


def _is_variable_token(piece: str) -> bool:
    return _DIGITS.match(piece) is not None or (_HOLDS_VARIABLE.match(piece) is not None and piece != "<*>/<*>")


def normalise_template(template: str) -> str:
    """A template in the benchmark's canonical form (Khan et al.'s rules, as Loghub-2.0 applies them).

    Whitespace runs become one space; a token (split at the usual delimiters) of digits only, or
    one that holds a variable, becomes ``<*>``; variables joined by ``:``, ``#``, ``/``, ``@``,
    ``.`` or nothing fold into one; a quoted or ``#``-wrapped lone variable loses its wrapping.
    """
    template = re.sub(r"\s+", " ", template.strip())
    template = "".join(_VARIABLE if _is_variable_token(piece) else piece for piece in _TOKEN_DELIMITERS.split(template))
    changed = True
    while changed:
        before = template
        for wrapped in (" #<*># ", " #<*> ", ' "<*>" ', " '<*>' "):
            template = template.replace(wrapped, " <*> ")
        for fold in _FOLDS:
            template = template.replace(fold, "<*>")
        changed = template != before
    return template


def f1(precision: float, recall: float) -> float:
    """The harmonic mean of precision and recall (0 when both are 0)."""
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


@dataclass(frozen=True, slots=True)
class ParsingScores:
    """All four metrics for one system."""

    ga: float
    fga: float
    pa: float
    fta: float
    predicted_groups: int
    truth_groups: int


def _groups(labels: Sequence[Hashable], kept: Sequence[int]) -> dict[Hashable, frozenset[int]]:
    members: dict[Hashable, list[int]] = defaultdict(list)
    for i in kept:
        members[labels[i]].append(i)
    return {label: frozenset(ids) for label, ids in members.items()}


def grouping_accuracy(truth: Sequence[str], parsed: Sequence[Hashable]) -> float:
    """logparser's GA: lines of parsed groups that hold exactly one whole ground-truth group."""
    kept = [i for i, t in enumerate(truth) if t]
    if not kept:
        return 0.0
    truth_sets = set(_groups(truth, kept).values())
    correct = sum(len(ids) for ids in _groups(parsed, kept).values() if ids in truth_sets)
    return correct / len(kept)


def score_parsing(
    *,
    truth_ids: Sequence[str],
    truth_templates: Sequence[str],
    parsed_ids: Sequence[Hashable],
    parsed_templates: Sequence[str],
) -> ParsingScores:
    """GA, FGA, PA and FTA of one system's parse (per-line group ids and template strings)."""
    kept = [i for i, t in enumerate(truth_ids) if t]
    if not kept:
        return ParsingScores(0.0, 0.0, 0.0, 0.0, 0, 0)
    truth_groups = _groups(truth_ids, kept)
    parsed_groups = _groups(parsed_ids, kept)
    truth_sets = set(truth_groups.values())
    norm_cache: dict[str, str] = {}

    def norm(template: str) -> str:
        if template not in norm_cache:
            norm_cache[template] = normalise_template(template)
        return norm_cache[template]

    correct_groups = [ids for ids in parsed_groups.values() if ids in truth_sets]
    ga = sum(len(ids) for ids in correct_groups) / len(kept)
    fga = f1(len(correct_groups) / len(parsed_groups), len(correct_groups) / len(truth_groups))
    pa = sum(1 for i in kept if norm(parsed_templates[i]) == norm(truth_templates[i])) / len(kept)
    # A group is one template: the template of any of its lines (the same for all of them).
    correct_templates = sum(
        1 for ids in correct_groups if norm(parsed_templates[next(iter(ids))]) == norm(truth_templates[next(iter(ids))])
    )
    fta = f1(correct_templates / len(parsed_groups), correct_templates / len(truth_groups))
    return ParsingScores(ga, fga, pa, fta, len(parsed_groups), len(truth_groups))
