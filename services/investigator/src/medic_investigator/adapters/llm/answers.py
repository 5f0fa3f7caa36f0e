"""What the models answer: the triage verdict and the final finding, validated before use."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from medic_contracts import FixStrategy

__all__ = ["Finding", "FindingEvidence", "Triage", "describe_problem", "json_object"]


class FindingEvidence(BaseModel):
    """One evidence item in the model's answer."""

    model_config = ConfigDict(extra="ignore")

    kind: str = Field(default="code", max_length=40)
    summary: str = Field(max_length=1000)
    source: str | None = Field(default=None, max_length=300)


class Finding(BaseModel):
    """The model's final answer, validated before it becomes a diagnosis."""

    model_config = ConfigDict(extra="ignore")

    root_cause: str = Field(min_length=10, max_length=5000)
    affected_file: str | None = Field(default=None, max_length=500)
    affected_lines: tuple[int, int] | None = None
    affected_function: str | None = Field(default=None, max_length=200)
    fix_strategy: FixStrategy
    fix_hint: str | None = Field(default=None, max_length=5000)
    confidence: float = Field(ge=0, le=1)
    fixability: float = Field(ge=0, le=1)
    estimated_fix_minutes: int = Field(default=15, ge=1, le=10_000)
    evidence: list[FindingEvidence] = Field(default_factory=list, max_length=30)

    @field_validator("affected_lines", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return (value.get("first"), value.get("last"))
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Finding:
        if self.affected_lines is not None:
            first, last = self.affected_lines
            if first < 1 or last < first:
                raise ValueError("affected_lines must be [first, last] with 1 <= first <= last")
        return self


@dataclass(frozen=True, slots=True)
class Triage:
    """Haiku's verdict."""

    code_level: bool
    fixability: float
    reason: str
    injection_suspected: bool = False

    @classmethod
    def from_text(cls, text: str) -> Triage:
        """The triage answer's JSON, clamped; an unreadable answer investigates anyway."""
        try:
            data = json_object(text)
            return cls(
                code_level=bool(data.get("code_level", True)),
                fixability=min(max(float(data.get("fixability", 0.5)), 0.0), 1.0),
                reason=str(data.get("reason", ""))[:500],
                injection_suspected=bool(data.get("injection_suspected", False)),
            )
        except (ValueError, TypeError):
            return cls(True, 0.5, "triage answer was not valid JSON; investigating anyway")


_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def json_object(text: str) -> dict[str, Any]:
    """The JSON object in a model's answer (ValueError naming what is wrong)."""
    match = _JSON_OBJECT.search(text)
    if match is None:
        raise ValueError("no JSON object in the answer")
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    return data


def describe_problem(exc: Exception) -> str:
    """What is wrong with an answer, in words the repair prompt gives back to the model."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:8])
    return str(exc)[:500]
