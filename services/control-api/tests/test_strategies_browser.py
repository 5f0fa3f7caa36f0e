"""The fix-strategy panel in real headless Chromium: each strategy's success rate over time, and why a fix failed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medic_contracts import FixStrategy

from .conftest import HTTP, control_server, lifecycle
from .test_strategies import rejection_analysis, rolled_back_run

pytestmark = [pytest.mark.browser, pytest.mark.kafka, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
ADMIN = "mdc_strategy_admin_" + "s" * 27


def test_an_engineer_sees_each_strategys_success_rate_and_why_a_fix_was_rolled_back(kafka_bootstrap: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/install-system.sh installs it)")
    from playwright.sync_api import expect, sync_playwright

    now = datetime.now(UTC)
    events = [
        *lifecycle("iss_good", start=now - timedelta(days=26)),
        *rolled_back_run("iss_bad", start=now - timedelta(days=2)),
        rejection_analysis("iss_bad", at=now - timedelta(days=1), strategy=FixStrategy.PARTIAL_REVERT),
    ]
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with control_server(kafka_bootstrap, tmp_path, admin_token=ADMIN) as (url, _control):
        for event in events:  # projected exactly as the bus consumer would
            response = HTTP.post(f"{url}/api/v1/events", json=event.model_dump(mode="json"), headers=admin)
            assert response.status_code == 202, response.text
        viewer = HTTP.post(f"{url}/api/v1/tokens", json={"name": "sre", "role": "viewer"}, headers=admin).json()
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            try:
                page.goto(f"{url}/dashboard/agent-control/login")
                page.fill("#token", viewer["token"])
                page.click("#login-button")
                expect(page).to_have_url(re.compile(r"/dashboard/agent-control$"))

                null_guard = page.locator("#strategy-null_guard")
                expect(null_guard.locator(".success-rate")).to_have_text("50%")
                expect(null_guard).to_contain_text("null_guard")
                chart = null_guard.locator("svg.chart")
                expect(chart).to_have_attribute("aria-label", "null_guard: success rate (%)")
                expect(chart.locator("rect.bar-ok")).to_have_count(4)  # four weekly periods
                expect(chart.locator("rect.bar-ok").first.locator("title")).to_have_text(re.compile(r"100%: 100$"))
                expect(chart.locator("text.tick").last).to_have_text(re.compile(r" 0%$"))  # this week: rolled back
                expect(page.locator("#strategy-partial_revert .success-rate")).to_have_text("0%")
                ARTIFACTS.mkdir(exist_ok=True)
                page.locator("#strategies").screenshot(path=str(ARTIFACTS / "dashboard-strategies.png"))

                # The failed fix's analysis is recorded with its issue.
                page.goto(f"{url}/dashboard/agent-control/issues/iss_bad")
                expect(page.locator("body")).to_contain_text("implementer.fix_failure_analysed")
                expect(page.locator("body")).to_contain_text("the error rate rose after the deploy")
            finally:
                browser.close()
