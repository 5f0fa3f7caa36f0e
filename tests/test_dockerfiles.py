"""Each service image: multi-stage, built with uv from the lock, non-root, health-checked, runs its own script."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/Dockerfile"))
MEMBERS = [
    *sorted(str(p.parent.relative_to(ROOT)) for d in ("libs", "services") for p in ROOT.glob(f"{d}/*/pyproject.toml")),
    "cli",
]


def test_every_service_has_a_dockerfile() -> None:
    assert SERVICES == ["control-api", "implementer", "investigator", "releaser", "watcher"]


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_is_multi_stage_uv_locked_non_root_and_runs_the_services_script(service: str) -> None:
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "multi-stage"
    assert "uv sync --frozen" in text and f"--package {project['name']}" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0")), "runs as a non-root user"
    assert "HEALTHCHECK" in text and "/healthz" in text
    (script,) = project["scripts"]
    assert f'ENTRYPOINT ["{script}"]' in text
    copied = set(re.findall(r"^COPY (\S+)/pyproject\.toml", text, re.M))
    assert copied == set(MEMBERS), "the dependency layer sees every workspace member's pyproject.toml"
