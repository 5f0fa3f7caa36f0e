"""The caller update after a rename, on real git repositories, real test runs and the same gate as every fix:
the missed caller moves to the new name (preferred over reverting the rename), and a rename the workspace does
not bear out is never applied."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from medic_contracts import DiagnosisReady, FixStrategy, NameChange, RequestContext, SuspectCommit, utcnow
from medic_implementer.domain.renames import caller_update
from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
from medic_testing.implementer import PY_TEST_COMMAND, FixtureRepo, diagnosis, git, local_forge, make_repo

TAX = '''VAT_RATE = 0.2


def vat_for(net_pence: int) -> int:
    """VAT on a net amount, rounded half up."""
    return int(net_pence * VAT_RATE + 0.5)
'''
INVOICES = """from app import tax


def invoice_vat(net: int) -> int:
    return tax.vat_for(net)
"""
MAIN = """from fastapi import FastAPI

from app import tax

app = FastAPI()


@app.get("/vat")
def vat_preview(net_pence: int) -> dict[str, int]:
    # tax.vat_for is the one rounding rule; "vat_for" is also what the till's logs call it
    return {"net_pence": net_pence, "vat_pence": tax.vat_for(net_pence)}
"""
TESTS = """import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.invoices import invoice_vat


def test_invoice_vat() -> None:
    assert invoice_vat(1000) == 200
"""


@pytest.fixture
def renamed_repo(tmp_path: Path) -> FixtureRepo:
    """The rename commit renamed ``tax.vat_for`` to ``vat_amount`` and updated invoices.py, not main.py."""
    return make_repo(
        tmp_path,
        good={
            "app/__init__.py": "",
            "app/tax.py": TAX,
            "app/invoices.py": INVOICES,
            "app/main.py": MAIN,
            "tests/test_vat.py": TESTS,
        },
        bug={
            "app/tax.py": TAX.replace("def vat_for(", "def vat_amount("),
            "app/invoices.py": INVOICES.replace("vat_for", "vat_amount"),
        },
        language="python",
        test_command=PY_TEST_COMMAND,
    )


def _rename_diagnosis(repo: FixtureRepo, *, new_name: str = "vat_amount", file: str = "app/tax.py") -> DiagnosisReady:
    base = diagnosis(
        affected_file="app/main.py",
        lines=(11, 11),
        title="AttributeError: module 'app.tax' has no attribute 'vat_for'",
        strategy=FixStrategy.PARTIAL_REVERT,
        root_cause=f"`vat_for` no longer exists: the commit renamed it to `{new_name}` and missed this caller",
        request=RequestContext(method="GET", route="/vat", url="http://testserver/vat?net_pence=1234", status=500),
        commit_sha=repo.bug_sha,
        issue_id="iss_vat",
    )
    suspect = SuspectCommit(
        sha=repo.bug_sha,
        author="Dev <dev@example.com>",
        date=utcnow(),
        message="Rename vat_for to vat_amount",
        name_change=NameChange(name="vat_for", new_name=new_name, owner="app.tax", file=file),
    )
    return base.model_copy(update={"suspect_commit": suspect})


async def test_the_missed_caller_moves_to_the_new_name_rather_than_reverting_the_rename(
    renamed_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    outcome = await implement_fix(
        _rename_diagnosis(renamed_repo),
        target=renamed_repo.target,
        repo=renamed_repo.path,
        options=fix_options(),
        forge=local_forge(renamed_repo.remote),
    )
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.files_changed[0] == "app/main.py"
    assert all(f.startswith("tests/") for f in outcome.files_changed[1:])  # beside the fix: its regression test only
    fixed = git(renamed_repo.path, "show", f"{outcome.commit_sha}:app/main.py")
    assert "tax.vat_amount(net_pence)" in fixed
    assert '"vat_for" is also what' in fixed  # comments and strings keep the old word
    assert "def vat_amount(" in git(renamed_repo.path, "show", f"{outcome.commit_sha}:app/tax.py")  # the rename stays
    assert outcome.reproduced and outcome.verified
    assert outcome.candidates[0]["description"].startswith("update the caller in app/main.py")


async def test_a_new_name_the_workspace_does_not_define_is_never_written(
    renamed_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    # A forged or stale diagnosis: the named file does not define the new name, so only the reverts remain.
    for forged in (
        _rename_diagnosis(renamed_repo, new_name="os_system"),
        _rename_diagnosis(renamed_repo, file="../../etc/passwd"),
    ):
        outcome = await implement_fix(
            forged,
            target=renamed_repo.target,
            repo=renamed_repo.path,
            options=fix_options(),
            forge=local_forge(renamed_repo.remote),
        )
        assert not any(c["description"].startswith("update the caller") for c in outcome.candidates), outcome.candidates
        if outcome.commit_sha:
            assert "os_system" not in git(renamed_repo.path, "show", f"{outcome.commit_sha}:app/main.py")


def test_python_references_change_only_where_they_mean_the_renamed_definition() -> None:
    source = '''from app.tax import vat_for as v, RATE
from app.tax import vat_for
from app import tax as t
import app.tax


def f(x, other):
    """vat_for in a docstring"""
    # vat_for in a comment
    return vat_for(x) + v(x) + app.tax.vat_for(x) + t.vat_for(x) + other.vat_for(1)
'''
    update = caller_update(source, path="app/f.py", old="vat_for", new="vat_amount", owner="app.tax")
    assert update is not None
    assert update.text.splitlines()[0] == "from app.tax import vat_amount as v, RATE"
    assert "return vat_amount(x) + v(x) + app.tax.vat_amount(x) + t.vat_amount(x) + other.vat_for(1)" in update.text
    assert '"""vat_for in a docstring"""' in update.text and "# vat_for in a comment" in update.text


def test_typescript_references_change_in_code_not_in_strings_or_comments() -> None:
    source = """import { formatSeat, other } from "../lib/seats";
import * as seats from "../lib/seats";
// formatSeat in a comment
const label = "formatSeat";
export function GET() {
  return seats.formatSeat(1) + formatSeat(2) + row.formatSeat + `formatSeat`;
}
"""
    update = caller_update(source, path="src/route.ts", old="formatSeat", new="seatLabel", owner="seats")
    assert update is not None and update.references == 3
    assert 'import { seatLabel, other } from "../lib/seats";' in update.text
    assert "return seats.seatLabel(1) + seatLabel(2) + row.formatSeat + `formatSeat`;" in update.text
    assert '// formatSeat in a comment\nconst label = "formatSeat";' in update.text


@pytest.mark.parametrize(
    ("old", "new", "source"),
    [
        ("vat_for", "vat_amount", "def vat_for(x):\n    return x\n\nvat_for(1)\n"),  # it defines the old name itself
        ("vat_for", "os.system('x')", "from app import tax\ntax.vat_for(1)\n"),  # not an identifier
        ("vat_for", "vat_amount", "from app import money\nmoney.vat_for(1)\n"),  # another module's attribute
    ],
)
def test_no_update_when_the_rename_does_not_apply(old: str, new: str, source: str) -> None:
    assert caller_update(source, path="app/main.py", old=old, new=new, owner="app.tax") is None
