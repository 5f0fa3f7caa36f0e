"""The seed's example end to end: the shop's practice route loses its null check; a real tsx run fails; diagnose it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medic_contracts import FixStrategy
from medic_investigator.adapters.providers import PlaybookProvider
from medic_investigator.adapters.repo import CheckoutCache
from medic_investigator.app import load_targets
from medic_investigator.job.diagnose import run_diagnosis
from medic_investigator.settings import InvestigatorSettings

from .helpers import issue_from_sentry_event

ROOT = Path(__file__).resolve().parents[3]
SHOP = ROOT / "examples" / "shop"
TSX = ROOT / "tools" / "node" / "node_modules" / ".bin" / "tsx"
pytestmark = pytest.mark.skipif(not (SHOP.is_dir() and TSX.exists()), reason="examples/shop or tools/node not installed")

TRIGGER = (
    'import { GET } from "./src/app/api/practices/[id]/route.ts";\n'
    'GET(new Request("http://shop/api/practices/prc_missing"), { params: Promise.resolve({ id: "prc_missing" }) })\n'
    "  .catch((e: Error) => { console.error(e.stack); process.exit(1); });\n"
)


async def test_the_shops_practice_null_check_regression_is_diagnosed_from_a_real_run(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SHOP / "setup_repo.py"), str(tmp_path / "shop")], check=True, capture_output=True, timeout=300
    )
    web = tmp_path / "shop" / "clone" / "web"
    trigger = web / "medic-trigger.ts"  # beside the app, so its `@/` imports resolve; removed right after
    trigger.write_text(TRIGGER)
    try:
        run = subprocess.run([str(TSX), str(trigger)], cwd=web, capture_output=True, text=True, timeout=120, check=False)
    finally:
        trigger.unlink()
    assert run.returncode == 1 and "Cannot read properties of null (reading 'id')" in run.stderr, run.stderr
    stack = run.stderr.strip().replace(str(web.resolve()) + "/", "/var/task/web/")
    frames = [line for line in stack.splitlines() if "route.ts" in line]
    assert frames and "/var/task/web/src/app/api/practices/[id]/route.ts:7" in frames[0]
    event = {
        "platform": "node",
        "exception": {
            "values": [
                {
                    "type": "TypeError",
                    "value": "Cannot read properties of null (reading 'id')",
                    "stacktrace": {
                        "frames": [
                            {
                                "abs_path": "/var/task/web/src/app/api/practices/[id]/route.ts",
                                "function": "GET",
                                "lineno": 7,
                                "colno": 18,
                                "in_app": True,
                            }
                        ]
                    },
                }
            ]
        },
        "request": {"method": "GET", "url": "https://shop.example/api/practices/prc_missing"},
    }
    settings = InvestigatorSettings(targets=str(tmp_path / "shop" / "medic.toml"), llm_provider="playbook")
    targets, sections = load_targets(settings)
    target = targets["shop"]
    assert sections["shop"].provider == "playbook"
    issue = issue_from_sentry_event(event, target=target)
    repo = await CheckoutCache(tmp_path / "work").checkout(
        clone=target.repo_path(), commit=None, default_branch="main", name="shop"
    )

    outcome = await run_diagnosis(issue, target=target, repo=repo, provider=PlaybookProvider())

    diagnosis = outcome.event
    assert diagnosis.affected_file == "web/src/app/api/practices/[id]/route.ts"
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first <= 7 <= diagnosis.affected_lines.last
    assert diagnosis.fix_strategy == FixStrategy.REVERT_COMMIT  # the bad commit deleted the 404 branch
    assert diagnosis.fix_hint is not None and "fallback_strategy: null_guard" in diagnosis.fix_hint
    assert "fallback_message: Practice not found" in diagnosis.fix_hint
    assert diagnosis.suspect_commit is not None and diagnosis.suspect_commit.message.startswith("Return practice details")
    assert "getPractice" in diagnosis.root_cause and not diagnosis.needs_human
