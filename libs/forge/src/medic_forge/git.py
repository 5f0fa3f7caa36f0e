"""Git as asyncio subprocesses: argv lists, timeouts, a clean environment, and ref validation.

Every git call here runs with the user's and the system's git config ignored (a global
``commit.gpgsign`` or hook path must not change what Medic's merges do), without prompts, in the
C locale so messages can be matched, and is killed when it outlives its timeout.

:func:`hardened_argv` and :func:`hardened_env` are the one place every git runner in Medic takes
its safety settings from (this module's :class:`Git`, the implementer's and the investigator's):
a repository's ``.git`` can be written by code Medic does not trust (a target's planted hooks, a
model-written test), so no hook, fsmonitor, external diff or pathspec magic may run from it.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .model import GitCommandError, GitTimeoutError, UnsafeRefError

__all__ = [
    "SAFE_PROTOCOLS",
    "Git",
    "GitResult",
    "check_branch_name",
    "check_ref",
    "check_sha",
    "hardened_args",
    "hardened_argv",
    "hardened_config",
    "hardened_env",
    "redact",
]

#: Transports Medic's forges use: local bare repositories (file), GitHub (https) and ssh remotes.
SAFE_PROTOCOLS: tuple[str, ...] = ("file", "https", "ssh")

# Environment that would make git run something or read something Medic did not choose.
_UNSAFE_ENV = (
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_PROXY_COMMAND",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_EXEC_PATH",
    "GIT_TEMPLATE_DIR",
    "GIT_GLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
)


def hardened_config(protocols: Sequence[str] = SAFE_PROTOCOLS) -> dict[str, str]:
    """``-c`` settings every Medic git call carries: no hooks, no fsmonitor, only the named transports.

    Command-line ``-c`` beats the repository's own ``.git/config``, so a hook directory, an
    fsmonitor command or an ``ext::`` remote planted there never runs. Transports outside
    ``protocols`` are refused (``protocol.allow=never``).
    """
    config = {
        "core.hooksPath": os.devnull,
        "core.fsmonitor": "false",
        "core.pager": "cat",
        "core.sshCommand": "ssh",
        "credential.helper": "",  # an empty value clears every configured helper
        "protocol.allow": "never",
    }
    for name in protocols:
        config[f"protocol.{name}.allow"] = "always"
    return config


def hardened_argv(executable: str = "git", *, protocols: Sequence[str] = SAFE_PROTOCOLS) -> list[str]:
    """The argv prefix of every Medic git call: the executable, literal pathspecs, :func:`hardened_config`.

    ``--literal-pathspecs`` makes a path such as ``src/[b]illing.py`` or ``:(glob)**`` name exactly
    that file instead of a pattern. Commands that produce diffs add ``--no-ext-diff --no-textconv``
    themselves (they are diff options, not global ones).
    """
    argv = [executable, "--literal-pathspecs", "--no-replace-objects"]
    for key, value in hardened_config(protocols).items():
        argv += ["-c", f"{key}={value}"]
    return argv


# Subcommands that can run a diff or textconv driver named in the repository's config or attributes.
_DIFF_COMMANDS = frozenset({"diff", "show", "log", "blame", "diff-tree", "diff-index", "diff-files", "format-patch"})

_GLOBAL_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})


def hardened_args(args: Sequence[str]) -> list[str]:
    """``args`` (subcommand first) with ``--no-ext-diff --no-textconv`` after a diff-producing subcommand.

    External diff and textconv drivers are commands a repository's config names; Medic's diffs
    are applied and hashed, so they must be git's own. ``grep`` takes only ``--no-textconv``.
    """
    i = 0
    while i < len(args) and args[i].startswith("-"):  # global options before the subcommand
        i += 2 if args[i] in _GLOBAL_WITH_VALUE else 1
    if i >= len(args):
        return list(args)
    before, head, rest = list(args[:i]), args[i], list(args[i + 1 :])
    if head in _DIFF_COMMANDS:
        return [*before, head, "--no-ext-diff", "--no-textconv", *rest]
    if head == "grep":
        return [*before, head, "--no-textconv", *rest]
    return list(args)


def hardened_env(env: Mapping[str, str]) -> dict[str, str]:
    """The inherited ``env`` without the variables that make git run or read foreign things, plus Medic's fixed ones.

    The user's and the system's git config are ignored, prompts are off, pathspecs are literal
    (also for git processes that git itself starts) and replace refs are not followed. Callers
    add their own fixed values (identity, editor) on top.
    """
    out = {k: v for k, v in env.items() if k not in _UNSAFE_ENV}
    out.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_ATTR_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_LITERAL_PATHSPECS": "1",
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_PAGER": "cat",
        }
    )
    return out


_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_BRANCH_CHARS = re.compile(r"^[A-Za-z0-9._/+-]+$")
_MAX_REF = 200
_CREDENTIALS = re.compile(r"(?i)(://)[^/@\s:]+(:[^/@\s]*)?@")
_HEADER = re.compile(r"(?i)(authorization:\s*)(\S+\s+)?\S+")


def check_branch_name(name: str) -> str:
    """``name`` when it is a safe branch name (git's ref rules plus a plain character set), else raise.

    Refused: empty or long names, characters outside ``A-Za-z0-9._/+-``, a leading ``-`` or ``/``,
    ``..``, ``//``, ``@{``, components starting with ``.`` or ending in ``.lock``, a trailing ``/``
    or ``.``, and full ref names (``refs/...``): callers name branches, not refs.
    """
    if not isinstance(name, str) or not name or len(name) > _MAX_REF:
        raise UnsafeRefError(f"unsafe branch name {name!r}: empty or longer than {_MAX_REF} characters")
    if not _BRANCH_CHARS.match(name):
        raise UnsafeRefError(f"unsafe branch name {name!r}: only letters, digits and . _ / + - are allowed")
    if name.startswith(("-", "/", "refs/")) or name.endswith(("/", ".")) or name == "HEAD":
        raise UnsafeRefError(f"unsafe branch name {name!r}")
    if ".." in name or "//" in name or "@{" in name:
        raise UnsafeRefError(f"unsafe branch name {name!r}")
    for part in name.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            raise UnsafeRefError(f"unsafe branch name {name!r}: component {part!r}")
    return name


def check_sha(sha: str) -> str:
    """``sha`` lower-cased when it is a hexadecimal commit id (7 to 64 digits), else raise."""
    text = sha.strip().lower() if isinstance(sha, str) else ""
    if not _SHA.match(text):
        raise UnsafeRefError(f"not a commit sha: {sha!r}")
    return text


def check_ref(ref: str) -> str:
    """A commit sha or a safe branch/tag name (see :func:`check_branch_name`)."""
    if isinstance(ref, str) and _SHA.match(ref.strip().lower()):
        return ref.strip().lower()
    return check_branch_name(ref)


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` without credentials: userinfo in URLs, Authorization header values, given secrets."""
    out = _CREDENTIALS.sub(r"\1***@", text)
    out = _HEADER.sub(r"\1***", out)
    for secret in secrets:
        if secret:
            out = out.replace(secret, "***")
    return out


@dataclass(frozen=True)
class GitResult:
    """What a finished git command printed."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when git exited 0."""
        return self.returncode == 0


@dataclass
class Git:
    """Runs git with a fixed identity and environment; ``secrets`` are scrubbed from errors."""

    timeout_s: float = 120.0
    author_name: str = "Medic"
    author_email: str = "medic@localhost"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    executable: str = "git"
    protocols: tuple[str, ...] = SAFE_PROTOCOLS

    def _env(self) -> dict[str, str]:
        # what git needs to reach a remote (proxies, CA bundles, ssh); nothing that changes its behaviour
        keep = (
            "PATH", "HOME", "TMPDIR", "SYSTEMROOT", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO",
            "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
        )  # fmt: skip
        env = hardened_env({k: os.environ[k] for k in keep if k in os.environ})
        env.update(
            {
                "LC_ALL": "C",
                "LANG": "C",
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_AUTHOR_NAME": self.author_name,
                "GIT_AUTHOR_EMAIL": self.author_email,
                "GIT_COMMITTER_NAME": self.author_name,
                "GIT_COMMITTER_EMAIL": self.author_email,
                "GIT_MERGE_AUTOEDIT": "no",
                "GIT_EDITOR": "true",
            }
        )
        env.update(self.extra_env)
        return env

    async def run(self, *args: str, cwd: Path | None = None, check: bool = True, timeout_s: float | None = None) -> GitResult:
        """Run ``git <args>``; raise :class:`GitCommandError` on a non-zero exit when ``check``."""
        limit = self.timeout_s if timeout_s is None else timeout_s
        process = await asyncio.create_subprocess_exec(
            *hardened_argv(self.executable, protocols=self.protocols),
            *hardened_args(args),
            cwd=str(cwd) if cwd is not None else None,
            env=self._env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(limit):  # not wait_for: on 3.11 it can swallow a cancellation
                out, err = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            command = redact(" ".join(args[:3]), self.secrets)
            raise GitTimeoutError(f"git {command} timed out after {limit:g}s", returncode=None) from None
        except asyncio.CancelledError:
            process.kill()
            await process.wait()
            raise
        result = GitResult(
            returncode=process.returncode if process.returncode is not None else -1,
            stdout=out.decode("utf-8", errors="replace"),
            stderr=redact(err.decode("utf-8", errors="replace"), self.secrets),
        )
        if check and not result.ok:
            command = redact(" ".join(args[:3]), self.secrets)
            detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"
            raise GitCommandError(f"git {command} failed: {detail}", returncode=result.returncode, stderr=result.stderr)
        return result

    async def output(self, *args: str, cwd: Path | None = None, timeout_s: float | None = None) -> str:
        """stdout of a successful git command, stripped."""
        return (await self.run(*args, cwd=cwd, timeout_s=timeout_s)).stdout.strip()
