"""Issue 12, finding 4: the default protected paths cover deploy, CI, hook and package-manager files at any depth.

Every case is a path a fixer might be talked into writing; the guard built from Medic's defaults
must refuse it (or, for nested dependency manifests, ask for approval), on a real worktree where
hard links and symlinks are real.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medic_contracts import DEFAULT_APPROVAL_PATHS, DEFAULT_PROTECTED_PATHS, MedicConfig, TargetConfig
from medic_implementer.domain.guard import PathGuard, PathRuling
from medic_implementer.job import guard_for

REFUSED = [
    # Docker and hosting
    "Dockerfile",
    "Dockerfile.prod",
    "services/api/Dockerfile",
    "services/api/Dockerfile.dev",
    "web/app.dockerfile",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.override.yml",
    "infra/docker-compose.yaml",
    "vercel.json",
    "apps/web/vercel.json",
    "netlify.toml",
    "site/netlify.toml",
    "fly.toml",
    "apps/api/fly.toml",
    # CI
    ".gitlab/ci/deploy.yml",
    ".gitlab-ci.yml",
    "bitbucket-pipelines.yml",
    ".travis.yml",
    "azure-pipelines.yml",
    "azure-pipelines-release.yml",
    ".github/workflows/ci.yml",
    # hooks and package-manager config
    ".husky/pre-commit",
    ".husky/_/husky.sh",
    ".pre-commit-config.yaml",
    ".npmrc",
    "packages/ui/.npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pypirc",
    # other
    "supabase/migrations/20240101_init.sql",
    "supabase/migrations/seed/data.sql",
    "apps/db/supabase/migrations/001.sql",
    ".gitattributes",
    "src/.gitattributes",
    ".gitmodules",
    # case and spelling variants of the same files
    "DOCKERFILE",
    "Apps/Web/Vercel.JSON",
    ".GitLab/ci.yml",
]


@pytest.mark.parametrize("path", REFUSED)
def test_a_default_protected_path_is_refused(tmp_path: Path, path: str) -> None:
    verdict = PathGuard(root=tmp_path).check(path)
    assert verdict.ruling is PathRuling.REFUSED, (path, verdict.reason)


@pytest.mark.parametrize("path", ["apps/web/package.json", "package.json", "packages/ui/package-lock.json", "yarn.lock"])
def test_a_dependency_manifest_at_any_depth_needs_approval(tmp_path: Path, path: str) -> None:
    assert PathGuard(root=tmp_path).check(path).ruling is PathRuling.NEEDS_APPROVAL


@pytest.mark.parametrize("path", ["src/app/lib/docker_helpers.ts", "src/app/api/practices/[id]/route.ts", "tests/test_fly.py"])
def test_ordinary_code_beside_the_defaults_stays_writable(tmp_path: Path, path: str) -> None:
    assert PathGuard(root=tmp_path).check(path).ruling is PathRuling.ALLOWED


def test_the_defaults_hold_every_class_of_finding_4() -> None:
    for glob in ("**/Dockerfile*", "**/vercel.json", ".gitlab/**", ".husky/**", "**/.npmrc", "**/supabase/migrations/**"):
        assert glob in DEFAULT_PROTECTED_PATHS
    assert "**/package.json" in DEFAULT_APPROVAL_PATHS
    assert MedicConfig().protected_paths == DEFAULT_PROTECTED_PATHS


@pytest.mark.parametrize("path", [".husky/pre-push", ".gitattributes", ".gitlab/ci.yml", ".pre-commit-config.yaml"])
def test_hook_and_ci_files_stay_protected_when_the_configuration_drops_the_defaults(tmp_path: Path, path: str) -> None:
    target = TargetConfig(name="t", repo=str(tmp_path), language="python", test_command="true")
    guard = guard_for(target, MedicConfig(protected_paths=("nothing/**",)), tmp_path)
    assert guard.check(path).refused


@pytest.mark.parametrize("name", ["src/app/lib/alias.py", "src/app/lib/deep/alias.py"])
def test_writing_through_a_hard_link_to_a_protected_file_is_refused(tmp_path: Path, name: str) -> None:
    billing = tmp_path / "src/app/api/billing/charge.py"
    billing.parent.mkdir(parents=True)
    billing.write_text("AMOUNT = 100\n")
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    os.link(billing, tmp_path / name)
    guard = PathGuard(root=tmp_path)
    verdict = guard.check(name)
    assert verdict.refused and "hard link" in verdict.reason
    with pytest.raises(ValueError, match="hard link"):
        guard.resolve(name)
    assert billing.read_text() == "AMOUNT = 100\n"


@pytest.mark.parametrize("target", ["src/app/api/billing/charge.py", ".github/workflows/deploy.yml", "vercel.json"])
def test_writing_through_a_symlink_to_a_protected_file_is_refused(tmp_path: Path, target: str) -> None:
    (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / target).write_text("protected\n")
    (tmp_path / "src/app/lib").mkdir(parents=True, exist_ok=True)
    link = tmp_path / "src/app/lib/innocent.py"
    link.symlink_to(tmp_path / target)
    assert PathGuard(root=tmp_path).check("src/app/lib/innocent.py").refused
