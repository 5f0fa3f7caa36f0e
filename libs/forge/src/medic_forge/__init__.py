"""medic_forge: where Medic's fixes become pull requests, merges and reverts.

One interface, :class:`Forge` (push a branch, find/open/merge pull requests, merge one branch
into another, revert a commit, read a branch head, check out a ref), with two implementations:

- :class:`LocalForge` on a plain bare repository (pull requests are records in the repository
  directory; merges are real ``--no-ff`` merges made in a private clone, serialised per remote
  with a file lock);
- :class:`GitHubForge` on GitHub through PyGithub (merges through the API, reverts through git).

:func:`build_forge` builds either from a target's ``[forge]`` section. Tests of code that uses
GitHub run it against :class:`medic_testing.forge.FakeGitHub`, a local HTTP server speaking the
REST API over a real bare repository.
"""

from .config import GitHubForgeSection, LocalForgeSection, build_forge
from .git import check_branch_name, check_ref, check_sha
from .github import GitHubForge, default_git_remote_url
from .local import LocalForge
from .model import (
    CommitStatus,
    Forge,
    ForgeError,
    ForgeLockTimeoutError,
    GitCommandError,
    GitTimeoutError,
    MergeConflictError,
    PullRequest,
    PullRequestClosedError,
    PullRequestNotFoundError,
    PushRejectedError,
    RefNotFoundError,
    StatusState,
    UnsafeRefError,
)

__all__ = [
    "CommitStatus",
    "Forge",
    "ForgeError",
    "ForgeLockTimeoutError",
    "GitCommandError",
    "GitHubForge",
    "GitHubForgeSection",
    "GitTimeoutError",
    "LocalForge",
    "LocalForgeSection",
    "MergeConflictError",
    "PullRequest",
    "PullRequestClosedError",
    "PullRequestNotFoundError",
    "PushRejectedError",
    "RefNotFoundError",
    "StatusState",
    "UnsafeRefError",
    "build_forge",
    "check_branch_name",
    "check_ref",
    "check_sha",
    "default_git_remote_url",
]
