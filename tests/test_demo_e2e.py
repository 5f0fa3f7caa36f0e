"""`medic demo` end to end, as `make demo` runs it (shorter watch windows): each scenario is one test.

Every part is real: the demo starts the embedded broker, control-api on SQLite and the four agents as
processes, deploys the example shop (a Next.js build served by next start, and FastAPI) from a local
bare git forge on local ports, ships the seed's bad change, drives traffic, and follows the loop on the
broker. The test reads what the demo wrote (summary.json) and checks the forge and the ports itself.

The scenarios share one work directory, as consecutive `make demo` runs do: its build cache gives each
web tree one `next build` for the whole module (the healthy shop, the bad change; the fixes restore the
healthy tree), not one per scenario.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.kafka, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]
NODE_BIN = ROOT / "tools" / "node" / "node_modules" / ".bin"


def _demo(work: Path, scenario: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    if not (NODE_BIN / "tsx").exists():
        pytest.fail("tools/node is not installed: `make test` installs it (scripts/install-node-tools.sh)")
    medic = Path(sys.executable).with_name("medic")
    done = subprocess.run(
        [str(medic), "demo", "--fast", "--scenario", scenario, "--work-dir", str(work), "--timeout", "480", "--any-ports"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    summary_file = work / scenario / "summary.json"
    assert summary_file.is_file(), f"no summary written\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    summary: dict[str, Any] = json.loads(summary_file.read_text())
    return done, summary


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's --work-dir for every scenario here (each runs in its own <work>/<scenario>)."""
    return tmp_path_factory.mktemp("demo")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stage_ports(work: Path, scenario: str) -> list[int]:
    toml = (work / scenario / "shop" / "medic.toml").read_text()
    return sorted({int(p) for p in re.findall(r"(?:^port = |--api-port )(\d+)", toml, flags=re.M)})


def test_the_demo_detects_diagnoses_fixes_with_a_regression_test_deploys_promotes_and_verifies(work: Path) -> None:
    done, summary = _demo(work, "fix")
    assert done.returncode == 0, f"{summary.get('reason')}\n{done.stdout[-6000:]}"
    assert summary["completed"] is True
    for stage in (
        "first_error",
        "detected",
        "diagnosed",
        "fix_committed",
        "staging_deployed",
        "staging_promoted",
        "production_deployed",
        "production_promoted",
        "notified",
        "verified",
    ):
        assert stage in summary["stages"], f"{stage} not reached: {summary['stages']}"
    assert summary["stages"]["detected"] <= summary["stages"]["diagnosed"] <= summary["stages"]["fix_committed"]
    assert summary["branch"] == f"agent/fix-{summary['issue_id']}"
    assert summary["regression_test"], "the fix was committed without its reproducing test"
    assert "Practice not found" in summary["diff"] or "practice" in summary["diff"]
    assert summary["errors_after_fix"] == 0
    # The stages ran next start builds, and the crash in their .next/server code was localised to the route's source.
    assert list((work / "fix" / "shop" / "deployments" / "checkouts").glob("cmd_production_*/web/.next/BUILD_ID"))
    assert "diagnosed" in done.stdout and "at web/src/app/api/practices/[id]/route.ts:" in done.stdout

    # The forge holds the fix branch with the fix and its test; main (production) contains it.
    forge = work / "fix" / "shop" / "forge.git"
    files = _git(forge, "show", "--name-only", "--format=", summary["commit"]).splitlines()
    assert summary["regression_test"] in files and any(f.endswith("route.ts") for f in files)
    _git(forge, "merge-base", "--is-ancestor", summary["commit"], "main")
    # The demo stopped what it started: no shop stage still answers.
    assert not [p for p in _stage_ports(work, "fix") if _answers(p)]


def test_a_fix_that_makes_staging_worse_is_rolled_back_and_never_reaches_production(work: Path) -> None:
    done, summary = _demo(work, "rollback")
    assert done.returncode == 0, f"{summary.get('reason')}\n{done.stdout[-6000:]}"
    assert "staging_rolled_back" in summary["outcomes"]
    assert "production_promoted" not in summary["outcomes"] and "production_deployed" not in summary["stages"]
    forge = work / "rollback" / "shop" / "forge.git"
    # main never got the fix; the staging merge was reverted (the branch's tree is the bad change's again).
    assert (
        subprocess.run(["git", "merge-base", "--is-ancestor", summary["commit"], "main"], cwd=forge, check=False).returncode != 0
    )
    assert _git(forge, "rev-parse", "staging^{tree}") == _git(forge, "rev-parse", "main^{tree}")
    assert not [p for p in _stage_ports(work, "rollback") if _answers(p)]


def test_at_level_one_the_fix_waits_for_approval_given_through_the_cli_and_then_completes(work: Path) -> None:
    done, summary = _demo(work, "approval")
    assert done.returncode == 0, f"{summary.get('reason')}\n{done.stdout[-6000:]}"
    assert summary["completed"] is True and "production_promoted" in summary["outcomes"]
    # Level 1: every deploy waited for a human, and each approval went through `medic approve`.
    assert len(summary["approvals"]) >= 2, summary["approvals"]
    assert "medic approve" in done.stdout
    approval_stages = [s for s in summary["stages"] if s.startswith("approval_")]
    assert approval_stages and all(summary["stages"][s] < summary["stages"]["production_promoted"] for s in approval_stages)
