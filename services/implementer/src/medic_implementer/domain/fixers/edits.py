"""What every template fixer returns: a rewritten file and what was done, in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from medic_contracts import FixStrategy

__all__ = ["TemplateEdit", "distinct", "http_reason"]


@dataclass(frozen=True, slots=True)
class TemplateEdit:
    """A template's rewrite of one file."""

    path: str
    new_text: str
    strategy: FixStrategy
    description: str
    guarded: str


def distinct(edits: Iterable[TemplateEdit]) -> list[TemplateEdit]:
    """The first edit for each rewritten text, in order: two templates reaching the same file count once."""
    seen: set[str] = set()
    out: list[TemplateEdit] = []
    for edit in edits:
        if edit.new_text not in seen:
            seen.add(edit.new_text)
            out.append(edit)
    return out


def http_reason(status: int) -> str:
    """A short default message for an HTTP status."""
    return {400: "Bad request", 404: "Not found", 409: "Conflict", 422: "Unprocessable request"}.get(status, "Request failed")
