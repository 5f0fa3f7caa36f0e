"""The ``[llm]`` section of medic.toml and the model prices it accounts spend with."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medic_contracts import TokenUsage

__all__ = ["DEFAULT_PRICES", "LlmSection", "ModelPrice"]


class ModelPrice(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)
    cache_read: float = Field(ge=0)

    def cost(self, usage: TokenUsage) -> float:
        """The cost of one call's usage."""
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_write_tokens * self.cache_write
            + usage.cache_read_tokens * self.cache_read
        ) / 1_000_000


#: Published list prices by model-name prefix (longest prefix wins); override in ``[llm] prices``.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-haiku-4": ModelPrice(input=1.0, output=5.0, cache_write=1.25, cache_read=0.10),
    "claude-3-5-haiku": ModelPrice(input=0.8, output=4.0, cache_write=1.0, cache_read=0.08),
    "claude-sonnet-4": ModelPrice(input=3.0, output=15.0, cache_write=3.75, cache_read=0.30),
    "claude-3-7-sonnet": ModelPrice(input=3.0, output=15.0, cache_write=3.75, cache_read=0.30),
    "claude-opus-4-5": ModelPrice(input=5.0, output=25.0, cache_write=6.25, cache_read=0.50),
    "claude-opus-4": ModelPrice(input=15.0, output=75.0, cache_write=18.75, cache_read=1.50),
}


class LlmSection(BaseModel):
    """The ``[llm]`` section of medic.toml as the investigator reads it (other services may add keys)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    provider: Literal["auto", "playbook", "claude"] = Field(
        default="auto", description="auto: claude when an API key is configured, else the offline playbook."
    )
    model: str = Field(default="claude-sonnet-4-6", min_length=1, description="Investigation model.")
    triage_model: str = Field(default="claude-haiku-4-5", min_length=1, description="Triage model.")
    base_url: str | None = Field(default=None, description="Messages API base URL (default: Anthropic's).")
    max_steps: int = Field(default=10, ge=2, le=50, description="Tool-use steps; the last offers no tools.")
    max_output_retries: int = Field(default=2, ge=0, le=5, description="Repairs of an invalid final answer.")
    max_tokens: int = Field(default=4096, ge=256, le=64_000, description="Output tokens per call.")
    timeout_s: float = Field(default=90.0, gt=0, le=900, description="Timeout of one API call.")
    max_retries: int = Field(default=2, ge=0, le=10, description="SDK retries before the work item is put back.")
    unavailable_patience_s: float = Field(
        default=1800.0,
        ge=0,
        le=7 * 86400,
        description="How long a diagnosis waits out an unavailable Messages API (429, 5xx, timeouts) before the "
        "playbook's diagnosis goes to a human instead.",
    )
    triage_threshold: float = Field(default=0.3, ge=0, le=1, description="Below this triage fixability, a human decides.")
    needs_human_below: float = Field(default=0.4, ge=0, le=1, description="Fixability under which the fix goes to a human.")
    telemetry_chars: int = Field(default=4000, ge=200, le=50_000, description="Truncation of each untrusted block.")
    prices: dict[str, ModelPrice] = Field(default_factory=dict, description="Price overrides by model prefix.")

    def price(self, model: str) -> ModelPrice:
        """The price of ``model`` (longest matching prefix); unknown models cost as the most expensive known."""
        table = {**DEFAULT_PRICES, **self.prices}
        matches = [p for p in table if model.startswith(p)]
        if matches:
            return table[max(matches, key=len)]
        return max(table.values(), key=lambda p: p.output)
