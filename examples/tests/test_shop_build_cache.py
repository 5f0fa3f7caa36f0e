"""The shop's build cache (``examples/shop/scripts/build.py --cache-dir``) stays bounded: least recently used go first."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[1] / "shop" / "scripts" / "build.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shop_build", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_only_the_builds_used_most_recently_are_kept_and_a_reused_build_counts_as_used(tmp_path: Path) -> None:
    build = load()
    builds = tmp_path / "builds"
    for age, name in enumerate(["e", "d", "c", "b", "a"]):  # "a" is the oldest
        (builds / name).mkdir(parents=True)
        (builds / name / "BUILD_ID").write_text(name)
        os.utime(builds / name, (1_000_000 - age * 100, 1_000_000 - age * 100))
    (builds / "f.tmp123").mkdir()  # a build being published right now is never removed
    build.used(builds / "a")  # reused just now: the most recent
    build.prune(builds, 3)
    assert sorted(p.name for p in builds.iterdir()) == ["a", "d", "e", "f.tmp123"]
    build.prune(tmp_path / "missing", 3)  # nothing cached yet: nothing to do
