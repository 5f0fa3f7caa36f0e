"""The path guard refuses every bypass of the protected paths, with real symlinks on disk."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from medic_implementer.domain.guard import PathGuard, PathRuling, canonical_path, glob_matches


@pytest.fixture
def guard(tmp_path: Path) -> PathGuard:
    (tmp_path / "src" / "app" / "api" / "billing").mkdir(parents=True)
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "lib" / "db.ts").write_text("export {}\n")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    return PathGuard(root=tmp_path)


def test_ordinary_source_files_are_allowed_even_when_they_do_not_exist_yet(guard: PathGuard) -> None:
    assert guard.check("src/lib/db.ts").ruling is PathRuling.ALLOWED
    assert guard.check("src/lib/new/helper.ts").ruling is PathRuling.ALLOWED
    assert guard.check("./src/lib/db.ts").ruling is PathRuling.ALLOWED


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/ci.yml",
        ".git/config",
        ".git",
        ".git/hooks/pre-commit",
        ".env",
        ".env.local",
        "apps/web/.env.production",
        "vercel.json",
        "supabase/migrations/20240101_init.sql",
        "src/app/api/billing/route.ts",
        "src/app/api/billing/invoices/[id]/route.ts",
        "src/app/api/webhooks/stripe/route.ts",
        "medic.toml",
        ".medic/state.db",
        "Dockerfile",
        "deploy/k8s/app.yaml",
        ".gitlab-ci.yml",
        ".circleci/config.yml",
    ],
)
def test_protected_paths_are_refused(guard: PathGuard, path: str) -> None:
    assert guard.check(path).refused, path


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../outside.py", "parent"),
        ("src/../../etc/passwd", "parent"),
        ("src/lib/../../.github/workflows/ci.yml", "parent"),
        ("/etc/passwd", "absolute"),
        ("~/.ssh/authorized_keys", "absolute"),
        ("C:/Windows/system.ini", "absolute"),
        ("src\\..\\.git\\config", "backslash"),
        (".GIT/config", "protected"),
        (".Github/Workflows/CI.yml", "protected"),
        ("VERCEL.JSON", "protected"),
        (".ENV", "protected"),
        (".git./config", "trailing"),
        (".git /config", "trailing"),
        ("vercel.json.", "trailing"),
        ("vercel.json ", "trailing"),
        (".gi\u200bt/config", "zero-width"),
        ("\u200b.env", "zero-width"),
        (".e\u200dnv", "zero-width"),
        ("src/app/api/bil\u00adling/route.ts", "zero-width"),
        ("src/lib/db.ts\x00.png", "control"),
        ("\uff0egit/config", "compatibility"),  # fullwidth full stop
        ("medic\u2024toml", "compatibility"),  # one dot leader
    ],
)
def test_spelling_bypasses_are_refused(guard: PathGuard, path: str, why: str) -> None:
    verdict = guard.check(path)
    assert verdict.refused, (path, why)


def test_nfd_and_nfc_spellings_of_a_protected_path_are_both_refused(tmp_path: Path) -> None:
    guard = PathGuard(root=tmp_path, protected=("src/café/**",))
    nfc = unicodedata.normalize("NFC", "src/café/menu.ts")
    nfd = unicodedata.normalize("NFD", "src/café/menu.ts")
    assert nfc != nfd
    assert guard.check(nfc).refused
    assert guard.check(nfd).refused
    assert guard.check("SRC/CAFÉ/menu.ts").refused


def test_a_symlinked_directory_anywhere_on_the_path_is_refused(guard: PathGuard, tmp_path: Path) -> None:
    os.symlink(tmp_path / ".github", tmp_path / "src" / "gh")
    os.symlink("/etc", tmp_path / "src" / "etc")
    assert guard.check("src/gh/workflows/ci.yml").refused
    assert "symlink" in guard.check("src/gh/workflows/ci.yml").reason
    assert guard.check("src/etc/passwd").refused


def test_a_symlinked_file_is_refused_even_when_it_points_inside_the_worktree(guard: PathGuard, tmp_path: Path) -> None:
    os.symlink(tmp_path / "src" / "lib" / "db.ts", tmp_path / "src" / "lib" / "alias.ts")
    os.symlink(tmp_path / ".env", tmp_path / "src" / "lib" / "settings.ts")  # dangling: .env does not exist
    assert guard.check("src/lib/alias.ts").refused
    assert guard.check("src/lib/settings.ts").refused


def test_a_symlinked_worktree_root_is_resolved_so_paths_inside_still_work(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "src").mkdir(parents=True)
    os.symlink(real, tmp_path / "link")
    guard = PathGuard(root=tmp_path / "link")
    assert guard.check("src/app.py").ruling is PathRuling.ALLOWED


def test_approval_paths_need_approval_and_config_cannot_unprotect_git_or_ci(tmp_path: Path) -> None:
    guard = PathGuard(root=tmp_path, protected=(), approval=("package.json",))
    assert guard.check("package.json").ruling is PathRuling.NEEDS_APPROVAL
    assert guard.check("PACKAGE.JSON").ruling is PathRuling.NEEDS_APPROVAL
    assert guard.check(".github/workflows/ci.yml").refused
    assert guard.check(".git/HEAD").refused


def test_resolve_raises_for_a_refused_path_and_returns_the_file_for_an_allowed_one(guard: PathGuard, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="protected"):
        guard.resolve(".env")
    assert guard.resolve("src/lib/db.ts") == Path(os.path.realpath(tmp_path)) / "src/lib/db.ts"


def test_globs_anchor_at_the_root_and_double_star_spans_directories() -> None:
    assert glob_matches("supabase/migrations/*.sql", "supabase/migrations/001.sql")
    assert not glob_matches("supabase/migrations/*.sql", "supabase/migrations/old/001.sql")
    assert glob_matches("**/.env*", "a/b/.env.test")
    assert glob_matches("deploy/**", "deploy")
    assert not glob_matches("vercel.json", "apps/vercel.json")
    assert canonical_path("./A/./B.") == "a/b"
