"""Materialise the example shop as a real git repository with history, a forge remote and a clone.

    python examples/shop/setup_repo.py DEST [--bad-change 001-practice-null-check ...] [--no-bad-change]

creates, under DEST:

- ``forge.git``: a bare repository standing in for GitHub, with ``main`` and ``staging``;
- ``clone``: a working clone whose ``origin`` is ``forge.git`` (the repository Medic works on);
- ``medic.toml``: the target file rendered with DEST's paths and free local ports;
- ``logs/``: where both stages write their JSON-lines logs.

History: an initial import, two ordinary commits, then each chosen bad change from ``bad-changes/``
applied with ``git am`` as its own commit (author and message from the patch, dated now), so blame
and suspect-commit strategies see a realistic recent change. ``materialise_shop`` does the same from
Python (the demo and end-to-end tests call it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import string
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

SHOP = Path(__file__).resolve().parent
BAD_CHANGES = SHOP / "bad-changes"
SEED_BAD_CHANGE = "001-practice-null-check"
# The Sentry project ids of the two services (the medic.toml template's sentry_ingest sources).
WEB_SENTRY_PROJECT, API_SENTRY_PROJECT = "1", "2"
#: The watcher variable holding the DSN key(s) the ingest accepts (the template's ``keys_env``).
SENTRY_KEYS_ENV = "SHOP_SENTRY_DSN_KEYS"
WebRuntime = Literal["next", "tsx"]
# Medic-side files that live beside the app but are not part of the target repository.
NOT_IN_REPO = {"bad-changes", "setup_repo.py", "traffic.py", "medic.toml", "README.md"}
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "node_modules", ".next")
# (message, paths) of the ordinary commits before any bad change; the first takes everything else
HISTORY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Initial import of the shop web and api services", ()),
    ("Add tests for web routes and the API", ("web/tests", "api/tests")),
    ("Add CI workflow and the test script", (".github", "scripts/test.sh")),
)
DEVELOPER = {
    "GIT_AUTHOR_NAME": "Shop Developer",
    "GIT_AUTHOR_EMAIL": "dev@shop.example",
    "GIT_COMMITTER_NAME": "Shop Developer",
    "GIT_COMMITTER_EMAIL": "dev@shop.example",
}


@dataclass(frozen=True)
class ShopPorts:
    """Local ports of the two stages (web and api each)."""

    web_staging: int
    api_staging: int
    web_production: int
    api_production: int


@dataclass(frozen=True)
class ShopRepo:
    """What ``materialise_shop`` created."""

    workdir: Path
    clone: Path
    forge: Path
    medic_toml: Path
    log_dir: Path
    ports: ShopPorts
    base_commit: str
    bad_commits: dict[str, str] = field(default_factory=dict)


def bad_change_names() -> list[str]:
    """The available bad changes (patch names without ``.patch``), in order."""
    return sorted(p.stem for p in BAD_CHANGES.glob("*.patch"))


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports the kernel reports free right now (bound to 127.0.0.1:0, then released)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **DEVELOPER, **(env or {})}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout.strip()


def copy_app(into: Path) -> None:
    """Copy the shop's repository files (everything but Medic's tooling beside them) into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    for entry in SHOP.iterdir():
        if entry.name in NOT_IN_REPO or entry.name in ("__pycache__", ".pytest_cache", "node_modules"):
            continue
        target = into / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, ignore=IGNORED)
        else:
            shutil.copy2(entry, target)


@dataclass(frozen=True)
class SentryIngest:
    """The watcher's Sentry ingest the shop's SDKs report to: its base URL and the DSN public key it accepts."""

    url: str
    key: str

    def dsn(self, project_id: str) -> str:
        scheme, _, host = self.url.rstrip("/").partition("://")
        return f"{scheme}://{self.key}@{host}/{project_id}"


def render_target(
    template: str,
    *,
    workdir: Path,
    log_dir: Path,
    ports: ShopPorts,
    web: WebRuntime = "next",
    build_cache: Path | None = None,
    sentry: SentryIngest | None = None,
) -> str:
    """medic.toml with its ``${...}`` placeholders filled in: paths, ports, the web runtime and the Sentry DSNs.

    ``web="next"`` builds each deployment with scripts/build.py (reusing builds from ``build_cache``, by default
    ``<workdir>/builds``) and serves it with ``next start``; ``"tsx"`` runs src/server.ts without a build.
    """
    cache = build_cache or workdir / "builds"
    build = f'build = "python {{checkout}}/scripts/build.py --cache-dir {cache}"'
    if web == "tsx":
        build = "# no build: tsx runs web/src"
    return string.Template(template).substitute(
        WORKDIR=str(workdir),
        LOG_DIR=str(log_dir),
        WEB_STAGING_PORT=ports.web_staging,
        API_STAGING_PORT=ports.api_staging,
        WEB_PRODUCTION_PORT=ports.web_production,
        API_PRODUCTION_PORT=ports.api_production,
        WEB_RUNTIME=web,
        WEB_BUILD=build,
        BUILD_CACHE=str(cache),
        WEB_SENTRY_DSN=sentry.dsn(WEB_SENTRY_PROJECT) if sentry else "",
        API_SENTRY_DSN=sentry.dsn(API_SENTRY_PROJECT) if sentry else "",
    )


def build_history(repo: Path, bad_changes: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Commit the app in ordinary steps, then each bad change; return (last ordinary sha, {change: sha})."""
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "commit.gpgsign", "false")
    later = [path for _, paths in HISTORY[1:] for path in paths]
    _git(repo, "add", "-A", "--", ".", *(f":(exclude){p}" for p in later))
    _git(repo, "commit", "-q", "-m", HISTORY[0][0])
    for message, paths in HISTORY[1:]:
        _git(repo, "add", "-A", "--", *paths)
        _git(repo, "commit", "-q", "-m", message)
    base = _git(repo, "rev-parse", "HEAD")
    shas: dict[str, str] = {}
    for name in bad_changes:
        patch = BAD_CHANGES / f"{name}.patch"
        if not patch.exists():
            raise ValueError(f"unknown bad change {name!r} (have: {', '.join(bad_change_names())})")
        # --ignore-date: the change lands now, just before the traffic that exposes it
        _git(repo, "am", "-q", "--ignore-date", str(patch))
        shas[name] = _git(repo, "rev-parse", "HEAD")
    return base, shas


def materialise_shop(
    dest: Path,
    *,
    bad_changes: Sequence[str] = (SEED_BAD_CHANGE,),
    ports: ShopPorts | None = None,
    web: WebRuntime = "next",
    build_cache: Path | None = None,
    sentry: SentryIngest | None = None,
) -> ShopRepo:
    """Create forge.git, clone/, logs/ and medic.toml under ``dest`` (which must not exist or be empty).

    ``web``, ``build_cache`` and ``sentry`` are how the rendered target deploys the web service and where the
    production stage's Sentry SDKs report (see :func:`render_target`).
    """
    dest = dest.resolve()
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    ports = ports or ShopPorts(*free_ports(4))
    with tempfile.TemporaryDirectory(prefix="shop-author-") as tmp:
        author = Path(tmp) / "shop"
        copy_app(author)
        base, shas = build_history(author, bad_changes)
        forge = dest / "forge.git"
        _git(dest, "init", "-q", "--bare", "-b", "main", str(forge))
        _git(author, "push", "-q", str(forge), "main:main", "main:staging")
    clone = dest / "clone"
    _git(dest, "clone", "-q", str(forge), str(clone))
    _git(clone, "config", "user.name", "Medic")
    _git(clone, "config", "user.email", "medic@localhost")
    log_dir = dest / "logs"
    log_dir.mkdir()
    medic_toml = dest / "medic.toml"
    template = (SHOP / "medic.toml").read_text(encoding="utf-8")
    rendered = render_target(
        template, workdir=dest, log_dir=log_dir, ports=ports, web=web, build_cache=build_cache, sentry=sentry
    )
    medic_toml.write_text(rendered, encoding="utf-8")
    return ShopRepo(
        workdir=dest,
        clone=clone,
        forge=forge,
        medic_toml=medic_toml,
        log_dir=log_dir,
        ports=ports,
        base_commit=base,
        bad_commits=shas,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Create the example shop's repository, forge remote and medic.toml.")
    parser.add_argument("dest", type=Path)
    parser.add_argument(
        "--bad-change",
        action="append",
        dest="bad_changes",
        choices=bad_change_names(),
        help=f"bad change to commit (repeatable; default {SEED_BAD_CHANGE})",
    )
    parser.add_argument("--no-bad-change", action="store_true", help="only the healthy history")
    parser.add_argument("--web", choices=("next", "tsx"), default="next", help="deploy the Next.js build, or run tsx")
    args = parser.parse_args()
    changes = [] if args.no_bad_change else (args.bad_changes or [SEED_BAD_CHANGE])
    repo = materialise_shop(args.dest, bad_changes=changes, web=args.web)
    print(json.dumps(asdict(repo), default=str, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
