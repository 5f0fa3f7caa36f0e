"""FakeGitHub: a local HTTP server speaking the part of GitHub's REST API that Medic uses.

Use it in tests of anything that talks to GitHub through PyGithub (or plain HTTP). It is backed
by a real bare git repository, so branches are real, merges are real ``git merge`` commits, and
``git push`` to the bare repository is what "pushing to GitHub" means::

    from medic_forge import GitHubForge
    from medic_testing.forge import FakeGitHub

    with FakeGitHub(bare_repo, repo="acme/shop", token="t0ken") as gh:
        forge = GitHubForge("acme/shop", "t0ken", api_url=gh.api_url, git_remote_url=str(bare_repo),
                            work_dir=tmp_path / "work", **gh.fast_client_options)
        ...
        assert gh.pulls[1].state == "open"            # inspect what the client did
        assert ("PUT", "/repos/acme/shop/pulls/1/merge") in gh.calls
        gh.fail_next("PUT", r"/pulls/\\d+/merge$", 502, {"message": "Bad gateway"})  # inject a failure

Routes (``/repos/{owner}/{repo}`` prefix; JSON as GitHub documents it, errors as
``{"message": ..., "documentation_url": ...}``, 401 for a missing or wrong token):

- ``GET  ``: the repository
- ``GET /pulls`` (``state``, ``head=owner:branch``, ``base``, ``sort``, ``direction``),
  ``POST /pulls`` (422 when a pull request for head/base is open, or a branch is missing, or
  there are no commits between them), ``GET|PATCH /pulls/{n}`` (``state``, ``title``, ``body``)
- ``PUT /pulls/{n}/merge`` (``merge_method`` merge or squash, ``sha``, ``commit_title``,
  ``commit_message``; 405 when not mergeable or conflicting, 409 when ``sha`` is stale),
  ``GET /pulls/{n}/merge`` (204 merged, 404 not)
- ``GET|POST /issues/{n}/labels``, ``GET|POST /issues/{n}/comments``
- ``POST /merges`` (201 merge commit, 204 nothing to merge, 404 missing branch, 409 conflict)
- ``GET /commits/{ref}``, ``GET /commits/{ref}/statuses``, ``GET /commits/{ref}/status``,
  ``GET|POST /statuses/{sha}``
- ``GET /git/ref/heads/{branch}``, ``GET /git/refs/heads/{branch}``, ``GET /branches/{branch}``

Everything runs in a daemon thread on an ephemeral 127.0.0.1 port; ``close()`` (or leaving the
``with`` block) stops it.

Modules: ``fake`` (the server, test hooks, authentication, routing), ``pulls`` (pull requests,
their labels and comments), ``commits`` (commits, statuses, merges, refs, branches), ``git`` (the
bare repository and real merges), ``site`` (names, URLs, owner and repository JSON), ``protocol``
(error bodies and the JSON request handler).
"""

from __future__ import annotations

from .fake import FakeGitHub
from .pulls import FakePull

__all__ = ["FakeGitHub", "FakePull"]
