"""Git hooks on a fixture's bare remote that fake a push going wrong: held open (to crash mid-push) or refused (remote down)."""

from __future__ import annotations

import stat
from pathlib import Path

__all__ = ["hold_first_push", "refuse_pushes"]


def _install(remote: Path, name: str, script: str) -> None:
    hook = remote / "hooks" / name
    hook.write_text(script)
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)


def hold_first_push(remote: Path, marker: Path, *, hold_s: int = 300, release: Path | None = None) -> None:
    """The first push updates the ref, touches ``marker``, then hangs: killing the pusher then is a crash after the push.

    With ``release``, the push returns as soon as that file exists (a fault injected while a push is in flight).
    """
    wait = f"sleep {hold_s}"
    if release is not None:
        wait = f"i=0; while [ ! -e '{release}' ] && [ $i -lt {hold_s * 10} ]; do sleep 0.1; i=$((i+1)); done"
    _install(remote, "post-receive", f"#!/bin/sh\nif [ ! -e '{marker}' ]; then touch '{marker}'; {wait}; fi\n")


def refuse_pushes(remote: Path, count: int, *, tally: Path) -> None:
    """The first ``count`` pushes are refused before any ref moves (the remote is down); ``tally`` counts every attempt."""
    _install(
        remote,
        "pre-receive",
        f"#!/bin/sh\necho x >> '{tally}'\nif [ \"$(wc -l < '{tally}')\" -le {count} ]; then\n"
        "  echo 'remote: service unavailable' >&2\n  exit 1\nfi\n",
    )
