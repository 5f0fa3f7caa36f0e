"""Materialise a scenario folder as a real git repository (shared by the event generator and tooling).

``materialise(scenario, into)`` is the benchmarks' own materialiser (``medic_lab.scenario_repo``):
``repo/`` committed, ``bug.patch`` on top with its own author, date and message (``git am``), and
the scenario's ``setup_command`` run, the same steps before Medic gets the repository.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from medic_lab.scenario_repo import materialise as _materialise

ROOT = Path(__file__).resolve().parents[3]
CORPUS = Path(__file__).resolve().parents[1]
SPLITS = ("dev", "test")
NODE_BIN = ROOT / "tools" / "node" / "node_modules" / ".bin"


def tool_env() -> dict[str, str]:
    """The environment scenario commands run in: tsx and the workspace Python first on PATH."""
    env = dict(os.environ)
    python_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([str(NODE_BIN), python_bin, env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def scenario_dir(name: str) -> Path:
    """The folder of scenario ``name``: under one of the corpus splits (``dev/``, ``test/``)."""
    found = [CORPUS / split / name for split in SPLITS if (CORPUS / split / name / "scenario.toml").is_file()]
    if len(found) != 1:
        raise LookupError(f"scenario {name!r} is in {len(found)} splits of {CORPUS} (expected exactly one)")
    return found[0]


def load_scenario(scenario: Path) -> dict[str, Any]:
    """The parsed scenario.toml of a scenario folder."""
    with (scenario / "scenario.toml").open("rb") as fh:
        return tomllib.load(fh)


def materialise(scenario: Path, into: Path) -> Path:
    """Copy the scenario's repo into ``into`` as a git repository with the bug committed and setup run.

    The one materialiser every benchmark uses (``medic_lab.scenario_repo``), so the events generated
    here come from the same history the benchmarks diagnose.
    """
    return _materialise(scenario, into, setup_env=tool_env()).repo
