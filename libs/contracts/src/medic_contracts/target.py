"""The target file (``medic.toml``): what Medic heals and how to reach it.

The common part (repository, language, test command, protected paths) is typed here. Each service
validates its own section (``sources``, ``deployer``, ``forge``, ``notifiers``, ``llm``,
``release``, ``database``) with its own model through :func:`section`, so a bad value stops that
service's start-up with the field named (``deployer.url``), and services evolve their sections
without touching the contracts.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["ConfigError", "TargetConfig", "format_validation_error", "load_target", "section"]

SectionT = TypeVar("SectionT", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file or section is invalid; the message names the field."""


class TargetConfig(BaseModel):
    """One target application: its repository, how to test it, and each service's section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Target name (lowercase, used in ids and topics).")
    repo: str = Field(description="Path of the target's git repository (relative to medic.toml) or a clone URL.")
    language: Literal["python", "typescript", "javascript"] = Field(description="Main language of the code.")
    services: tuple[str, ...] = Field(
        default=("web",), description="Service names of the target (Sentry project, Vercel project, ...)."
    )
    default_branch: str = Field(default="main", description="Production branch.")
    staging_branch: str = Field(default="staging", description="Staging branch fixes are merged into first.")
    test_command: str = Field(description="Command that runs the target's tests (exit 0 = pass).")
    test_timeout_s: int = Field(default=600, ge=1, le=7200, description="Kill the test run after this long.")
    setup_command: str | None = Field(default=None, description="Run once in a fresh worktree before tests (e.g. npm ci).")
    format_command: str | None = Field(default=None, description="Formatter to run on changed files ({files} is replaced).")
    protected_paths: tuple[str, ...] = Field(
        default=(), description="Extra globs the fixer never writes (added to the defaults)."
    )
    approval_paths: tuple[str, ...] = Field(default=(), description="Extra globs the fixer writes only with approval.")
    source_roots: tuple[str, ...] = Field(
        default=("src", "app", "lib", "."), description="Where the application's code lives in the repo."
    )
    path_prefixes: dict[str, str] = Field(
        default_factory=dict,
        description="Deployed path prefix → repository path prefix (e.g. '/var/task/' → '').",
    )
    source_map_roots: tuple[str, ...] = Field(
        default=(),
        description="Directories where deployed build output and its source maps can be read (relative to medic.toml), "
        "e.g. the deployments' checkouts after next build: a compiled frame under one is mapped to its original line.",
    )
    sources: tuple[dict[str, Any], ...] = Field(default=(), description="Watcher sources (validated by the watcher).")
    deployer: dict[str, Any] = Field(default_factory=dict, description="Releaser deployer section.")
    forge: dict[str, Any] = Field(default_factory=dict, description="Implementer/releaser forge section.")
    notifiers: tuple[dict[str, Any], ...] = Field(default=(), description="Notification channels.")
    llm: dict[str, Any] = Field(default_factory=dict, description="LLM provider section (investigator, implementer).")
    release: dict[str, Any] = Field(default_factory=dict, description="Rollout settings (watch windows, checks).")
    database: dict[str, Any] = Field(default_factory=dict, description="Read-only diagnostics database section.")
    base_dir: str = Field(default=".", description="Directory of the medic.toml the target was loaded from (set by the loader).")

    @field_validator("test_command")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("test_command must not be empty")
        return value

    def source_map_paths(self) -> tuple[Path, ...]:
        """``source_map_roots`` as absolute paths (relative ones are relative to medic.toml)."""
        base = Path(self.base_dir)
        return tuple(path if (path := Path(root)).is_absolute() else (base / path).resolve() for root in self.source_map_roots)

    def repo_path(self) -> Path:
        """The repository as an absolute path (relative paths are relative to medic.toml)."""
        path = Path(self.repo)
        return path if path.is_absolute() else (Path(self.base_dir) / path).resolve()


def format_validation_error(exc: ValidationError, *, prefix: str = "", source: str = "") -> str:
    """One line per problem, each naming the field as a dotted path."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "<root>")
        lines.append(f"{field}: {err['msg']}")
    where = f"{source}: " if source else ""
    return where + "invalid configuration: " + "; ".join(lines)


def load_target(path: str | Path) -> TargetConfig:
    """Read and validate a medic.toml; raise :class:`ConfigError` naming the bad field."""
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: no such target file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    data = dict(raw.get("target", {}))
    for key in ("sources", "notifiers"):
        if key in raw:
            data[key] = tuple(raw[key])
    for key in ("deployer", "forge", "llm", "release", "database"):
        if key in raw:
            data[key] = raw[key]
    unknown = set(raw) - {"target", "sources", "notifiers", "deployer", "forge", "llm", "release", "database"}
    if unknown:
        raise ConfigError(f"{file}: unknown section(s): {', '.join(sorted(unknown))}")
    data["base_dir"] = str(file.resolve().parent)
    try:
        return TargetConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, prefix="target", source=str(file))) from exc


def section(model: type[SectionT], data: Any, *, name: str) -> SectionT:
    """Validate one service's section of a target, naming the field on error (``deployer.url``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, prefix=name)) from exc
