"""Build the shop's web service for ``next start`` (``serve.py --web next``): npm ci from the lockfile, then next build.

    python scripts/build.py [--cache-dir DIR]

Telemetry is off and the build fetches nothing: ``npm ci --prefer-offline`` installs what package-lock.json pins,
from npm's own cache when it has them. With ``--cache-dir`` a build is reused wherever its inputs are the same:

- the build of a web/ tree (every tracked file outside web/tests/, and the node version) is kept, so promoting a
  release to production, rolling back to it or deploying a commit that only adds tests builds nothing;
- node_modules is installed once per lockfile (later installs are hard links to it);
- Next.js's build cache (``.next/cache``) carries over from one build to the next, as CI caches it.

A checkout with uncommitted changes under web/ is built afresh and not kept. The cache stays bounded: the
``KEEP_BUILDS`` builds and ``KEEP_INSTALLS`` installs used most recently are kept, older ones removed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
TIMEOUT_S = 900
KEEP_BUILDS = 6  # builds of distinct web/ trees (a few releases to promote or roll back to)
KEEP_INSTALLS = 2  # node_modules of distinct lockfiles
ENV = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1", "NO_COLOR": "1"}


def run(*argv: str) -> None:
    """Run a command in web/ (its output goes to ours); SystemExit when it fails."""
    print(f"build.py: {' '.join(argv)}", flush=True)
    done = subprocess.run(argv, cwd=WEB, env=ENV, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise SystemExit(f"build.py: {' '.join(argv)} exited {done.returncode}")


def output(*argv: str) -> str | None:
    """A quiet command's stdout, or None when it fails."""
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    return done.stdout if done.returncode == 0 else None


def node_version() -> str:
    return (output("node", "--version") or "").strip()


def build_key() -> str | None:
    """What the build depends on, hashed: tracked web/ files outside web/tests/ and the node version (None: unknown)."""
    tree = output("git", "ls-tree", "-r", "HEAD", "--", "web")
    status = output("git", "status", "--porcelain", "--", "web")
    if tree is None or status is None or status.strip():
        return None  # not a repository, or changes git does not know: build, but never reuse it
    inputs = [line for line in tree.splitlines() if not line.partition("\t")[2].startswith("web/tests/")]
    return hashlib.sha256("\n".join([*inputs, node_version()]).encode()).hexdigest()[:24]


def lock_key() -> str:
    return hashlib.sha256((WEB / "package-lock.json").read_bytes() + node_version().encode()).hexdigest()[:24]


def link_tree(source: Path, target: Path) -> None:
    """``target`` as a copy of ``source`` made of hard links (a plain copy across file systems)."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link)


def copy_build(source: Path, target: Path) -> None:
    """``.next`` without its build cache (kept apart, see ``remember_build_cache``)."""
    shutil.copytree(source, target, symlinks=True, ignore=lambda d, names: ["cache"] if Path(d) == source else [])


def publish(into: Path, fill: Callable[[Path], None]) -> None:
    """Fill a temporary sibling of ``into``, then rename it into place (a concurrent build's copy wins)."""
    into.parent.mkdir(parents=True, exist_ok=True)
    tmp = into.with_name(f"{into.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    fill(tmp)
    try:
        tmp.rename(into)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def prune(folder: Path, keep: int) -> None:
    """All but the ``keep`` entries of ``folder`` used most recently removed (an entry's mtime says when: see ``used``)."""
    if not folder.is_dir():
        return
    entries = [p for p in folder.iterdir() if p.is_dir() and ".tmp" not in p.name and ".old" not in p.name]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        print(f"build.py: removing {old} (least recently used)", flush=True)
        shutil.rmtree(old, ignore_errors=True)


def used(entry: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(entry)


def install(cache: Path | None) -> None:
    """web/node_modules as package-lock.json pins it: npm ci, or hard links to this lockfile's earlier install."""
    shutil.rmtree(WEB / "node_modules", ignore_errors=True)
    shared = cache / "node_modules" / lock_key() if cache else None
    if shared is not None and shared.is_dir():
        print(f"build.py: node_modules from {shared}", flush=True)
        link_tree(shared, WEB / "node_modules")
        used(shared)
        return
    run("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline")
    if shared is not None:
        publish(shared, lambda tmp: link_tree(WEB / "node_modules", tmp))
        prune(shared.parent, KEEP_INSTALLS)


def restore_build_cache(cache: Path) -> None:
    saved = cache / "next-cache"
    if saved.is_dir():
        try:
            shutil.copytree(saved, WEB / ".next" / "cache", dirs_exist_ok=True)
        except (OSError, shutil.Error):
            print("build.py: the saved Next.js build cache could not be read; building without it", flush=True)


def remember_build_cache(cache: Path) -> None:
    saved = cache / "next-cache"
    fresh = WEB / ".next" / "cache"
    if not fresh.is_dir():
        return
    old = saved.with_name(f"next-cache.old{os.getpid()}")
    if saved.is_dir():
        saved.rename(old)
    publish(saved, lambda tmp: shutil.copytree(fresh, tmp, symlinks=True))
    shutil.rmtree(old, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="npm ci and next build the shop's web service (for serve.py --web next).")
    parser.add_argument("--cache-dir", type=Path, default=None, help="reuse builds and installs kept here")
    args = parser.parse_args()
    cache: Path | None = args.cache_dir.resolve() if args.cache_dir else None

    key = build_key() if cache else None
    kept = cache / "builds" / key if cache and key else None
    shutil.rmtree(WEB / ".next", ignore_errors=True)
    install(cache)
    if kept is not None and (kept / "BUILD_ID").is_file():
        print(f"build.py: the build of this web/ tree from {kept}", flush=True)
        copy_build(kept, WEB / ".next")
        used(kept)
        return 0
    if cache is not None:
        restore_build_cache(cache)
    run("npm", "run", "next:build")
    if cache is not None:
        remember_build_cache(cache)
    if kept is not None:
        publish(kept, lambda tmp: copy_build(WEB / ".next", tmp))
        prune(kept.parent, KEEP_BUILDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
