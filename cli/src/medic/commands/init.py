"""``medic init [REPO]``: write a commented medic.toml for a repository, then check it as each service would."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def check_target(path: Path) -> list[str]:
    """Load ``path`` as every service does at start-up; the problems found (each naming its field)."""
    from medic_contracts import ConfigError, load_target, section
    from medic_forge import build_forge
    from medic_implementer.adapters.llm import LlmSection
    from medic_releaser.config import load_releaser_target
    from medic_watcher.config import SourcesSection

    try:
        target = load_target(path)
    except ConfigError as exc:
        return [str(exc)]
    problems: list[str] = []
    checks = (
        lambda: load_releaser_target(target),
        lambda: section(SourcesSection, {"sources": list(target.sources)}, name="sources"),
        lambda: section(LlmSection, target.llm, name="llm"),
        lambda: build_forge(target.forge, base_dir=Path(target.base_dir)) if target.forge else None,
    )
    for check in checks:
        try:
            check()
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


def _init(args: argparse.Namespace) -> int:
    from medic.init.detect import detect
    from medic.init.render import render
    from medic_contracts import DEFAULT_PROTECTED_PATHS

    repo = Path(args.repo)
    if not repo.is_dir():
        print(f"medic init: {repo}: not a directory")
        return 2
    out = Path(args.output) if args.output else repo / "medic.toml"
    if out.exists() and not args.force:
        print(f"medic init: {out} exists (use --force to overwrite)")
        return 1
    facts = detect(repo, protected_candidates=DEFAULT_PROTECTED_PATHS)
    if args.name:
        facts.name = args.name
    out.write_text(render(facts), encoding="utf-8")
    print(f"wrote {out}")
    print(f"  language {facts.language}, tests: {facts.test_command or 'CHECK (none found)'}")
    print(f"  setup: {facts.setup_command or '-'}, source roots: {', '.join(facts.source_roots) or '-'}")
    problems = check_target(out)
    for problem in problems:
        print(f"  invalid: {problem}")
    todo = [
        line.strip()
        for line in out.read_text(encoding="utf-8").splitlines()
        if "CHECK" in line and not line.startswith("# Lines")
    ]
    for line in todo:
        print(f"  to check: {line}")
    print(f"next: medic dev up --targets {out}")
    return 1 if problems else 0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("init", help="write a commented medic.toml for a repository")
    parser.add_argument("repo", nargs="?", default=".", help="the repository (default: the current directory)")
    parser.add_argument("--output", default=None, help="where to write it (default REPO/medic.toml)")
    parser.add_argument("--name", default=None, help="target name (default: from package.json / pyproject.toml)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(handler=_init)
