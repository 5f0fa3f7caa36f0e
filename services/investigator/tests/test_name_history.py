"""History search for a missing name, on real git repositories and real failing runs: the commit that removed
or renamed the name is the suspect, and the names from the error text reach git only as identifiers."""

from __future__ import annotations

from pathlib import Path

import pytest

from medic_contracts import FixStrategy
from medic_investigator.adapters.name_search import commits_changing
from medic_investigator.adapters.providers import PlaybookProvider
from medic_investigator.adapters.repo import Repository
from medic_investigator.domain.name_history import decide_name_change, missing_name, parse_commit_diff
from medic_investigator.job.diagnose import diagnose_issue

from .helpers import git, issue_from_trace, make_repo, run_node, run_python, target_for

TAX = """
    VAT_RATE = 0.2


    def vat_for(net_pence: int) -> int:
        \"\"\"VAT on a net amount, rounded half up.\"\"\"
        return int(net_pence * VAT_RATE + 0.5)
"""
INVOICES = """
    from app import tax


    def invoice_vat(net: int) -> int:
        return tax.vat_for(net)
"""
MAIN = """
    from app import tax


    def vat_preview(net_pence: int) -> dict[str, int]:
        return {"net_pence": net_pence, "vat_pence": tax.vat_for(net_pence)}
"""
BASE = {"app/__init__.py": "", "app/tax.py": TAX, "app/invoices.py": INVOICES, "app/main.py": MAIN}
CALL = "from app.main import vat_preview; vat_preview(1234)"


async def _diagnose(repo: Path, trace: str, language: str = "python"):  # type: ignore[no-untyped-def]
    issue = issue_from_trace(trace)
    return await diagnose_issue(issue, target=target_for(repo, language), repo=repo, provider=PlaybookProvider())


async def test_a_caller_the_rename_missed_names_the_renaming_commit_and_the_new_name(tmp_path: Path) -> None:
    repo, sha = make_repo(
        tmp_path,
        BASE,
        bug={
            "app/tax.py": TAX.replace("def vat_for(", "def vat_amount("),
            "app/invoices.py": INVOICES.replace("vat_for", "vat_amount"),
        },
        bug_message="Rename vat_for to vat_amount",
    )
    trace = run_python(repo, CALL, deployed_prefix="/app/")
    assert "module 'app.tax' has no attribute 'vat_for'" in trace

    diagnosis = await _diagnose(repo, trace)

    assert diagnosis.suspect_commit is not None and diagnosis.suspect_commit.sha == sha
    change = diagnosis.suspect_commit.name_change
    assert change is not None
    assert (change.name, change.new_name, change.owner, change.file) == ("vat_for", "vat_amount", "app.tax", "app/tax.py")
    assert diagnosis.fix_strategy is FixStrategy.PARTIAL_REVERT
    assert not diagnosis.needs_human and diagnosis.confidence >= 0.85
    assert diagnosis.affected_file == "app/main.py"
    assert "vat_amount" in diagnosis.root_cause and "no playbook rule" not in diagnosis.root_cause
    assert any(e.kind == "git_log" and sha[:12] in e.summary for e in diagnosis.evidence)


async def test_a_removed_definition_is_a_revert_of_the_removing_commit(tmp_path: Path) -> None:
    removed = TAX.split("def vat_for", maxsplit=1)[0]
    repo, sha = make_repo(
        tmp_path,
        BASE,
        bug={"app/tax.py": removed, "app/invoices.py": "def invoice_vat(net: int) -> int:\n    return net // 5\n"},
        bug_message="Drop the VAT helper",
    )
    trace = run_python(repo, CALL, deployed_prefix="/app/")

    diagnosis = await _diagnose(repo, trace)

    assert diagnosis.suspect_commit is not None and diagnosis.suspect_commit.sha == sha
    assert diagnosis.suspect_commit.name_change is not None
    assert diagnosis.suspect_commit.name_change.new_name is None
    assert diagnosis.fix_strategy is FixStrategy.REVERT_COMMIT


async def test_cannot_import_name_finds_the_commit_that_renamed_it(tmp_path: Path) -> None:
    main = """
        def vat_preview(net_pence: int) -> dict[str, int]:
            from app.tax import vat_for

            return {"net_pence": net_pence, "vat_pence": vat_for(net_pence)}
    """
    repo, sha = make_repo(
        tmp_path,
        {**BASE, "app/main.py": main},
        bug={
            "app/tax.py": TAX.replace("def vat_for(", "def vat_amount("),
            "app/invoices.py": INVOICES.replace("vat_for", "vat_amount"),
        },
    )
    trace = run_python(repo, CALL, deployed_prefix="/app/")
    assert "cannot import name 'vat_for' from 'app.tax'" in trace

    diagnosis = await _diagnose(repo, trace)

    assert diagnosis.suspect_commit is not None and diagnosis.suspect_commit.sha == sha
    assert diagnosis.suspect_commit.name_change is not None
    assert diagnosis.suspect_commit.name_change.new_name == "vat_amount"
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == 2


async def test_not_a_function_after_an_exported_function_was_renamed(tmp_path: Path) -> None:
    seats = "exports.formatSeat = function formatSeat(row, n) {\n  return `${row}${n}`;\n};\n"
    route = (
        "const seats = require('./seats');\n\nexports.label = function label(row, n) {\n  return seats.formatSeat(row, n);\n};\n"
    )
    other = "const { formatSeat } = require('./seats');\nexports.ticket = (r, n) => formatSeat(r, n);\n"
    repo, sha = make_repo(
        tmp_path,
        {"src/seats.js": seats, "src/route.js": route, "src/ticket.js": other},
        bug={
            "src/seats.js": seats.replace("formatSeat", "seatLabel"),
            "src/ticket.js": other.replace("formatSeat", "seatLabel"),
        },
        bug_message="Rename formatSeat to seatLabel",
    )
    trace = run_node(repo, "require('./src/route').label('B', 4)", deployed_prefix="/var/task/")
    assert "seats.formatSeat is not a function" in trace

    diagnosis = await _diagnose(repo, trace, language="javascript")

    assert diagnosis.suspect_commit is not None and diagnosis.suspect_commit.sha == sha
    change = diagnosis.suspect_commit.name_change
    assert change is not None and (change.new_name, change.file, change.owner) == ("seatLabel", "src/seats.js", "seats")
    assert diagnosis.affected_file == "src/route.js"


async def test_a_definition_changed_in_place_is_no_removal(tmp_path: Path) -> None:
    # Its signature line stays: the commit that changed the body is not one that removed or renamed the name.
    repo, sha = make_repo(
        tmp_path, BASE, bug={"app/tax.py": TAX.replace("0.5)", "0.49)").replace("-> int:", "-> int:  # rounded")}
    )
    diff = git(repo, "show", "--format=", "--unified=3", "--no-renames", sha)
    assert "-def vat_for" in diff
    assert not decide_name_change(parse_commit_diff(diff), "vat_for").removed
    assert all(
        not decide_name_change(parse_commit_diff(git(repo, "show", "--format=", sha_)), "vat_for").removed
        for sha_ in await commits_changing(Repository(repo), "vat_for")
    )


@pytest.mark.parametrize(
    ("exc_type", "message"),
    [
        ("AttributeError", "module 'app.tax' has no attribute '--output=/tmp/pwned'"),
        ("AttributeError", "module 'app.tax; rm -rf /' has no attribute 'vat_for'"),
        ("ImportError", "cannot import name '$(touch /tmp/x)' from 'app.tax' (/app/app/tax.py)"),
        ("TypeError", "-S.formatSeat is not a function"),
        ("AttributeError", "'NoneType' object has no attribute 'vat_for'"),
        ("TypeError", "nights.toFixed is not a function extra words"),
    ],
)
def test_names_that_are_not_plain_identifiers_are_never_searched(exc_type: str, message: str) -> None:
    assert missing_name(exc_type, message) is None


async def test_the_search_refuses_a_name_that_would_be_an_option_and_finds_a_literal_one(tmp_path: Path) -> None:
    repo, sha = make_repo(tmp_path, BASE, bug={"app/tax.py": TAX.replace("def vat_for(", "def vat_amount(")})
    repository = Repository(repo)
    assert await commits_changing(repository, "--all") == ()
    assert await commits_changing(repository, "vat_.*") == ()  # never a pattern
    assert sha in await commits_changing(repository, "vat_amount")


def test_a_rename_needs_one_definition_with_the_same_signature() -> None:
    diff = """diff --git a/app/tax.py b/app/tax.py
--- a/app/tax.py
+++ b/app/tax.py
@@ -1,4 +1,4 @@
-def vat_for(net_pence: int) -> int:
+def vat_amount(net_pence: int, rate: float) -> int:
     return int(net_pence * 0.2 + 0.5)
"""
    verdict = decide_name_change(parse_commit_diff(diff), "vat_for")
    assert verdict.removed and verdict.new_name is None  # the signature changed: a removal, not a clean rename

    moved = """diff --git a/app/tax.py b/app/tax.py
--- a/app/tax.py
+++ b/app/tax.py
@@ -1,6 +1,6 @@
-def vat_for(net_pence: int) -> int:
-    return int(net_pence * 0.2 + 0.5)
-
 RATE = 0.2
+
+def vat_amount(net_pence: int) -> int:
+    return int(net_pence * 0.3 + 0.5)
"""
    changed_body = decide_name_change(parse_commit_diff(moved), "vat_for")
    assert changed_body.new_name == "vat_amount" and not changed_body.clean
    same = decide_name_change(parse_commit_diff(moved.replace("0.3", "0.2")), "vat_for")
    assert same.new_name == "vat_amount" and same.clean
    other_file = decide_name_change(parse_commit_diff(diff), "vat_for", files=("app/money.py",))
    assert not other_file.removed
