"""The ``[llm]`` section as the implementer reads it, and the fixer it configures."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medic_runtime import ServiceRuntime

from ..job.context import CandidateProposer
from ..settings import ImplementerSettings
from .claude import ClaudeFixer

__all__ = ["LlmSection", "build_proposer"]


class LlmSection(BaseModel):
    """``[llm]``: the provider, and for Claude its model and limits."""

    model_config = ConfigDict(frozen=True, extra="allow")

    provider: Literal["playbook", "claude"] = Field(
        default="playbook", description="playbook: templates only; claude: also Claude."
    )
    fix_model: str = Field(default="claude-sonnet-5", description="Model used by the Claude fixer.")
    fix_max_attempts: int = Field(default=3, ge=1, le=10, description="Test runs Claude may use per issue.")
    fix_max_steps: int = Field(default=12, ge=2, le=50, description="Model calls per issue (the last without tools).")
    fix_budget_usd: float | None = Field(default=None, ge=0, description="Per-issue spend (default: the config's llm_budget).")


def build_proposer(llm: LlmSection, *, settings: ImplementerSettings, runtime: ServiceRuntime) -> CandidateProposer | None:
    """The Claude fixer when ``provider = "claude"`` and an API key is set; else None (templates only).

    With ``anthropic_api_key_file`` the fixer reads the key from that file at each call (rotation works, and the
    key is never in the environment); else it holds the value of ``MEDIC_ANTHROPIC_API_KEY``.
    """
    if llm.provider != "claude" or not settings.has_anthropic_key():
        return None
    config = runtime.config()
    budget = llm.fix_budget_usd if llm.fix_budget_usd is not None else (config.llm_budget.per_issue_usd if config else 2.0)
    return ClaudeFixer(
        api_key=settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None,
        api_key_file=settings.anthropic_api_key_file,
        base_url=settings.anthropic_base_url,
        model=llm.fix_model,
        max_attempts=llm.fix_max_attempts,
        max_steps=llm.fix_max_steps,
        budget_usd=budget,
    )
