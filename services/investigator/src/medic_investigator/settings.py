"""Settings of the investigator service (environment variables prefixed MEDIC_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from medic_runtime import ServiceSettings


class InvestigatorSettings(ServiceSettings):
    """The investigator's settings."""

    service_name: str = "investigator"
    targets: str = Field(
        default="",
        description="Comma-separated paths of the medic.toml files of the targets this instance diagnoses (MEDIC_TARGETS).",
    )
    workdir: Path = Field(default=Path(".medic/investigator"), description="Where checkouts of target repositories live.")
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        description="Anthropic API key; without one the offline playbook diagnoses (unless [llm] provider = 'claude').",
    )
    sdk_anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="ANTHROPIC_API_KEY",
        description="The SDK's own variable, used when MEDIC_ANTHROPIC_API_KEY is not set.",
    )
    llm_provider: Literal["", "auto", "playbook", "claude"] = Field(
        default="", description="Overrides the targets' [llm] provider ('' keeps what medic.toml says)."
    )
    diagnose_concurrency: int = Field(default=2, ge=1, le=32, description="Diagnoses run at once by this instance.")
    history_window_hours: float = Field(
        default=72.0, gt=0, le=24 * 90, description="A commit this long before first_seen counts as 'shortly before'."
    )
    memory_similarity: float = Field(default=0.5, ge=0, le=1, description="Similarity above which a past case counts.")

    def api_key(self) -> str | None:
        """The Anthropic API key, if any."""
        key = self.anthropic_api_key or self.sdk_anthropic_api_key
        return key.get_secret_value() if key else None

    def target_files(self) -> list[Path]:
        """The configured medic.toml paths."""
        return [Path(p.strip()) for p in self.targets.split(",") if p.strip()]
