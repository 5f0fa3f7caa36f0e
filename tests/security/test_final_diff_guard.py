"""Issue 12, findings 2 and 3: the final staged diff is read whole and every protected write in it is refused.

Each case stages a change with real git in a real repository, reads it the way the implementer
does before committing (``git diff --cached --raw -z -M -C``) and asserts the guard refuses it:
renames and copies out of protected directories, deletions, mode changes, symlinks, hard links,
quoted, non-ASCII and tab names. The unified-diff reader (what approvals and pull requests carry)
and ``protected_writes`` (the benchmark's measure) are checked on the same diffs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from medic_contracts import TargetConfig
from medic_implementer.adapters.git import Git
from medic_implementer.domain.candidates import diff_changes, diff_paths
from medic_implementer.domain.diffscan import c_unquote, parse_raw_z
from medic_implementer.domain.guard import PathGuard, final_diff_verdicts
from medic_implementer.job import protected_writes

BILLING = "src/app/api/billing/charge.py"


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    env |= {"GIT_AUTHOR_NAME": "d", "GIT_AUTHOR_EMAIL": "d@e", "GIT_COMMITTER_NAME": "d", "GIT_COMMITTER_EMAIL": "d@e"}
    done = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", *args], cwd=repo, env=env, capture_output=True, check=True)
    return done.stdout.decode("utf-8", "surrogateescape").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a billing module, a workflow, a migration and ordinary code, committed once."""
    root = tmp_path / "repo"
    files = {
        BILLING: "AMOUNT = 100\n" * 20,
        "src/app/api/billing/refund.py": "REFUND = 1\n" * 20,
        ".github/workflows/deploy.yml": "on: push\n",
        "supabase/migrations/001_init.sql": "create table t (id int);\n",
        "src/app/lib/util.py": "def f():\n    return 1\n",
        "src/app/lib/other.py": "def g():\n    return 2\n",
        "README.md": "readme\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "initial")
    return root


def _rename_out(repo: Path) -> None:
    (repo / "src/app/lib/charge.py").write_bytes((repo / BILLING).read_bytes())
    (repo / BILLING).unlink()


def _copy_out(repo: Path) -> None:
    (repo / "src/app/lib/charge_copy.py").write_text((repo / BILLING).read_text())
    (repo / BILLING).write_text((repo / BILLING).read_text() + "# touched so -C considers it\n")


def _copy_only(repo: Path) -> None:
    # a copy whose source is untouched: git names the source only with --find-copies-harder, the content is billing's
    (repo / "src/app/lib/util.py").write_text((repo / "src/app/lib/util.py").read_text() + "\n")
    (repo / "src/app/lib/charge_copy.py").write_text((repo / BILLING).read_text())
    (repo / BILLING).write_text((repo / BILLING).read_text().replace("100", "101", 1))


def _delete(repo: Path) -> None:
    (repo / BILLING).unlink()


def _delete_migration(repo: Path) -> None:
    (repo / "supabase/migrations/001_init.sql").unlink()


def _rename_workflow(repo: Path) -> None:
    (repo / ".github/workflows/deploy.yml").rename(repo / "docs_deploy.yml")


def _rename_into(repo: Path) -> None:
    (repo / "src/app/lib/other.py").rename(repo / "src/app/api/billing/other.py")


def _executable(repo: Path) -> None:
    (repo / "src/app/lib/util.py").chmod(0o755)


def _new_executable(repo: Path) -> None:
    (repo / "src/app/lib/run.sh").write_text("#!/bin/sh\n")
    (repo / "src/app/lib/run.sh").chmod(0o755)


def _symlink_to_protected(repo: Path) -> None:
    (repo / "src/app/lib/link.py").symlink_to("../api/billing/charge.py")


def _symlink_anywhere(repo: Path) -> None:
    (repo / "src/app/lib/readme_link").symlink_to("../../../README.md")


def _file_to_symlink(repo: Path) -> None:
    (repo / "src/app/lib/util.py").unlink()
    (repo / "src/app/lib/util.py").symlink_to("../api/billing/charge.py")


def _hard_link(repo: Path) -> None:
    os.link(repo / BILLING, repo / "src/app/lib/hard.py")


def _non_ascii_workflow(repo: Path) -> None:
    (repo / ".github/workflows/déploy.yml").write_text("on: push\njobs: {}\n")


def _tab_name_in_billing(repo: Path) -> None:
    (repo / "src/app/api/billing/a\tb.py").write_text("X = 1\n")


def _quote_name_in_billing(repo: Path) -> None:
    (repo / 'src/app/api/billing/"q".py').write_text("X = 1\n")


def _newline_name_in_billing(repo: Path) -> None:
    (repo / "src/app/api/billing/a\nb.py").write_text("X = 1\n")


def _space_name_migration(repo: Path) -> None:
    (repo / "supabase/migrations/002 add col.sql").write_text("alter table t add c int;\n")


ATTACKS: dict[str, Callable[[Path], None]] = {
    "rename out of billing": _rename_out,
    "copy out of billing": _copy_out,
    "copy of billing content": _copy_only,
    "delete billing": _delete,
    "delete migration": _delete_migration,
    "rename workflow away": _rename_workflow,
    "rename into billing": _rename_into,
    "mode change to executable": _executable,
    "new executable": _new_executable,
    "symlink to protected file": _symlink_to_protected,
    "symlink anywhere": _symlink_anywhere,
    "file replaced by symlink": _file_to_symlink,
    "hard link to billing": _hard_link,
    "non-ascii workflow name": _non_ascii_workflow,
    "tab in a billing name": _tab_name_in_billing,
    "quote in a billing name": _quote_name_in_billing,
    "newline in a billing name": _newline_name_in_billing,
    "space in a migration name": _space_name_migration,
}


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_the_final_staged_diff_refuses_the_attack(repo: Path, attack: str) -> None:
    base = _git(repo, "rev-parse", "HEAD")
    ATTACKS[attack](repo)
    _git(repo, "add", "-A")
    guard = PathGuard(root=repo)
    refused = final_diff_verdicts(guard, await Git(repo).changes(base))
    assert refused, f"{attack}: nothing refused in {await Git(repo).changes(base)}"
    assert all(v.refused for v in refused)


async def test_an_ordinary_fix_passes_the_final_staged_diff(repo: Path) -> None:
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "src/app/lib/util.py").write_text("def f():\n    return 2\n")
    (repo / "src/app/lib/new_test.py").write_text("def test_f():\n    assert True\n")
    _git(repo, "add", "-A")
    assert final_diff_verdicts(PathGuard(root=repo), await Git(repo).changes(base)) == []


UNIFIED = [
    "rename out of billing",
    "delete billing",
    "rename workflow away",
    "rename into billing",
    "non-ascii workflow name",
    "tab in a billing name",
    "quote in a billing name",
    "newline in a billing name",
    "space in a migration name",
]


@pytest.mark.parametrize("attack", UNIFIED)
def test_the_unified_diff_reader_names_the_protected_side(repo: Path, attack: str) -> None:
    ATTACKS[attack](repo)
    _git(repo, "add", "-A")
    patch = _git(repo, "diff", "--cached", "--no-color", "--binary", "HEAD")
    guard = PathGuard(root=repo)
    paths = diff_paths(patch)
    assert any(guard.check(p).refused for p in paths), (attack, paths)


def test_a_rename_keeps_its_source_in_the_file_changes(repo: Path) -> None:
    _rename_out(repo)
    _git(repo, "add", "-A")
    patch = _git(repo, "diff", "--cached", "-M", "HEAD")
    [change] = diff_changes(patch)
    assert (change.old_path, change.path) == (BILLING, "src/app/lib/charge.py")


def test_c_quoted_names_are_decoded_as_utf8() -> None:
    assert c_unquote('"\\.github/workflows/d\\303\\251ploy.yml"'.replace("\\.", ".")) == ".github/workflows/déploy.yml"
    assert c_unquote('"a\\tb\\"c\\\\"') == 'a\tb"c\\'


def test_raw_z_entries_carry_both_sides_and_modes() -> None:
    raw = ":100644 100644 aaa bbb R087\0src/app/api/billing/charge.py\0src/app/lib/charge.py\0:000000 120000 000 ccc A\0l\0"
    rename, link = parse_raw_z(raw)
    assert rename.paths == ("src/app/api/billing/charge.py", "src/app/lib/charge.py")
    assert (link.status, link.new_mode) == ("A", "120000")


@pytest.mark.parametrize("attack", ["rename out of billing", "delete billing", "rename workflow away", "tab in a billing name"])
async def test_protected_writes_counts_both_sides_of_a_commit(repo: Path, attack: str) -> None:
    base = _git(repo, "rev-parse", "HEAD")
    ATTACKS[attack](repo)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "attack")
    target = TargetConfig(name="t", repo=str(repo), language="python", test_command="true")
    assert await protected_writes(repo=repo, base=base, head=_git(repo, "rev-parse", "HEAD"), target=target)
