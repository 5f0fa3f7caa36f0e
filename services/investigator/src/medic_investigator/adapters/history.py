"""Change history of the fault lines: ``git blame`` and ``git log`` through the confined repository."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from medic_contracts import SuspectCommit

from ..domain.errors import RepositoryUnavailable
from .repo import Repository

__all__ = ["BlameLine", "CommitInfo", "History", "read_commit", "read_history"]

_SEP = "\x1f"
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class BlameLine:
    """Who last changed one line."""

    line: int
    sha: str
    text: str


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """A commit as the investigator reports it."""

    sha: str
    author: str
    date: datetime
    subject: str
    parents: tuple[str, ...] = ()
    diff: str = ""  # the commit's diff of the fault file, truncated
    files: tuple[tuple[str, str], ...] = ()  # (status A/M/D/R, path) of every file the commit changed
    other_removed: tuple[str, ...] = ()  # lines the commit deleted from the other files

    def hunk_near(self, first: int, last: int) -> tuple[list[str], list[str]]:
        """(removed, added) lines of the fault file's hunks over lines first..last (else the ones bordering them)."""
        hunks: list[tuple[int, int, list[str], list[str]]] = []
        for raw in self.diff.splitlines():
            match = _HUNK.match(raw)
            if match:
                hunks.append((int(match.group(1)), int(match.group(2) or 1), [], []))
            elif hunks and raw.startswith("-") and not raw.startswith("---"):
                hunks[-1][2].append(raw[1:])
            elif hunks and raw.startswith("+") and not raw.startswith("+++"):
                hunks[-1][3].append(raw[1:])
        for margin in (0, 3):
            near = [h for h in hunks if h[0] - margin <= last and h[0] + max(h[1], 1) - 1 + margin >= first]
            if near:
                return [ln for h in near for ln in h[2]], [ln for h in near for ln in h[3]]
        return [], []

    def removed_lines(self) -> list[str]:
        """Lines this commit deleted from the fault file."""
        return [ln[1:] for ln in self.diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]

    def added_lines(self) -> list[str]:
        """Lines this commit added to the fault file."""
        return [ln[1:] for ln in self.diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]


@dataclass(frozen=True, slots=True)
class History:
    """What git says about the fault lines."""

    blame: tuple[BlameLine, ...] = ()
    suspect: CommitInfo | None = None
    recent: tuple[CommitInfo, ...] = ()  # latest commits touching the fault file, newest first
    landed_before_first_seen: bool = False
    suspect_touches_lines: bool = False  # blamed on the fault statement, or changed lines next to it
    deploy_id: str | None = None
    notes: tuple[str, ...] = field(default=())

    def suspect_commit(self) -> SuspectCommit | None:
        """The contract form of the suspect commit."""
        if self.suspect is None:
            return None
        return SuspectCommit(
            sha=self.suspect.sha,
            author=self.suspect.author,
            date=self.suspect.date,
            message=self.suspect.subject[:500],
            landed_before_first_seen=self.landed_before_first_seen,
            deploy_id=self.deploy_id,
        )


async def _commit(repo: Repository, sha: str, *, file: str) -> CommitInfo:
    fmt = _SEP.join(["%H", "%an <%ae>", "%cI", "%s", "%P"])
    meta = await repo.git("show", "-s", f"--format={fmt}", sha)
    full, author, date, subject, parents = (meta.stdout.strip().split(_SEP) + [""] * 5)[:5]
    diff = await repo.git("show", "--format=", "--unified=0", "--no-color", full, "--", file, check=False)
    status = await repo.git("show", "--format=", "--name-status", "--no-renames", "-z", full, check=False)
    # -z: names arrive unquoted (tabs, non-ASCII), as status NUL path NUL pairs
    fields = status.stdout.lstrip("\n").split("\0")
    files = tuple((fields[i][:1], fields[i + 1]) for i in range(0, len(fields) - 1, 2) if fields[i] and fields[i + 1])
    # The other files by name, not by an ":(exclude)" pathspec: pathspecs are literal (the file name is untrusted).
    other_files = [path for _, path in files if path != file][:500]
    others = (
        await repo.git("show", "--format=", "--unified=0", "--no-color", "--no-renames", full, "--", *other_files, check=False)
        if other_files
        else None
    )
    lines = others.stdout.splitlines() if others is not None else []
    other_removed = tuple(ln[1:] for ln in lines if ln.startswith("-") and not ln.startswith("---"))
    return CommitInfo(
        sha=full,
        author=author,
        date=datetime.fromisoformat(date),
        subject=subject,
        parents=tuple(parents.split()),
        diff=diff.stdout[:20000],
        files=files,
        other_removed=other_removed[:500],
    )


async def read_commit(repo: Repository, sha: str, *, file: str) -> CommitInfo:
    """One commit's metadata, its diff of ``file`` and the lines it deleted elsewhere."""
    return await _commit(repo, sha, file=repo.relative(file))


async def _hunks(repo: Repository, sha: str, file: str) -> list[tuple[int, int]]:
    """(start, count) of each hunk of ``sha``'s change to ``file``, in the new file's lines."""
    result = await repo.git("show", "--format=", "--unified=0", "--no-color", sha, "--", file, check=False)
    return [(int(m.group(1)), int(m.group(2) or 1)) for m in _HUNK.finditer(result.stdout)]


async def _blame(repo: Repository, file: str, first: int, last: int) -> list[BlameLine]:
    rev = repo.commit or "HEAD"
    result = await repo.git("blame", "--porcelain", "-w", "-L", f"{first},{last}", rev, "--", file, check=False)
    if result.returncode != 0:
        return []
    out: list[BlameLine] = []
    sha = ""
    final_line = 0
    for raw in result.stdout.splitlines():
        if raw.startswith("\t"):
            out.append(BlameLine(final_line, sha, raw[1:]))
            continue
        parts = raw.split()
        if len(parts) >= 3 and len(parts[0]) == 40 and all(c in "0123456789abcdef" for c in parts[0]):
            sha, final_line = parts[0], int(parts[2])
    return out


async def read_history(
    repo: Repository,
    *,
    file: str,
    first: int,
    last: int,
    extra_lines: tuple[int, ...] = (),
    first_seen: datetime,
    release: str | None = None,
    deployed_commit: str | None = None,
    window: timedelta = timedelta(days=3),
) -> History:
    """Blame the fault lines (and the lines binding their values), pick the suspect commit.

    The suspect is the newest commit among those that last touched the lines; it "landed shortly
    before first_seen" when its commit date falls within ``window`` before the issue's first_seen.
    """
    relative = repo.relative(file)
    notes: list[str] = []
    try:
        blame = await _blame(repo, relative, first, last)
        for line in extra_lines:
            if line < first or line > last:
                blame += await _blame(repo, relative, line, line)
    except RepositoryUnavailable as exc:
        return History(notes=(f"git blame failed: {exc}",))
    if not blame:
        return History(notes=("no git history for the fault lines",))
    commits: dict[str, CommitInfo] = {}
    adjacent: set[str] = set()
    for entry in blame:
        if entry.sha not in commits and set(entry.sha) != {"0"}:  # 000… = not committed yet
            commits[entry.sha] = await _commit(repo, entry.sha, file=relative)
    log = await repo.git(
        "log", "-n", "5", f"--format=%H{_SEP}%an <%ae>{_SEP}%cI{_SEP}%s", repo.commit or "HEAD", "--", relative, check=False
    )
    recent = []
    for raw in log.stdout.splitlines():
        sha, author, date, subject = (raw.split(_SEP) + [""] * 4)[:4]
        if sha:
            recent.append(CommitInfo(sha=sha, author=author, date=datetime.fromisoformat(date), subject=subject))
    # A commit that only deleted lines (a removed check) never shows in blame: look for recent
    # commits of the file whose hunks touch or border the fault lines.
    for info in recent:
        if info.sha in commits:
            continue
        for start, count in await _hunks(repo, info.sha, relative):
            if start - 3 <= last and start + max(count, 1) + 3 >= first:
                commits[info.sha] = await _commit(repo, info.sha, file=relative)
                adjacent.add(info.sha)
                break
    if not commits:
        return History(blame=tuple(blame), recent=tuple(recent), notes=("fault lines are not committed",))
    # Newest first by history, not by clock: commits made in the same second (scripts, rebases) still order.
    order = await repo.git("rev-list", "--topo-order", "-n", "500", repo.commit or "HEAD", "--", relative, check=False)
    rank = {sha: n for n, sha in enumerate(order.stdout.split())}
    suspect = min(commits.values(), key=lambda c: (rank.get(c.sha, len(rank)), -c.date.timestamp()))
    landed = first_seen - window <= suspect.date <= first_seen + timedelta(minutes=5)
    deploy_id = None
    if release and deployed_commit:
        ancestor = await repo.git("merge-base", "--is-ancestor", suspect.sha, deployed_commit, check=False)
        if ancestor.returncode == 0:
            deploy_id = release
            notes.append(f"suspect commit is part of the deployed commit {deployed_commit[:12]} (release {release})")
    return History(
        blame=tuple(blame),
        suspect=suspect,
        suspect_touches_lines=suspect.sha in adjacent or any(b.sha == suspect.sha and first <= b.line <= last for b in blame),
        recent=tuple(recent),
        landed_before_first_seen=landed,
        deploy_id=deploy_id,
        notes=tuple(notes),
    )
