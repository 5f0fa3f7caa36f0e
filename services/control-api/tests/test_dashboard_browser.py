"""The dashboard in real headless Chromium: log in, watch an issue arrive live, pause, approve a fix."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path

import pytest

from medic_contracts import Envelope, TopicRegistry

from .conftest import HTTP, approval_request, dashboard_stack, lifecycle, publish

pytestmark = [pytest.mark.browser, pytest.mark.kafka, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
ADMIN = "mdc_browser_admin_" + "q" * 26


def publish_from_thread(bootstrap: str, topics: TopicRegistry, events: list[Envelope]) -> None:
    """Publish from a thread of its own: Playwright's sync API owns this thread's event loop."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(publish(bootstrap, topics, events))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/install-system.sh installs it)")
    return CHROMIUM


def test_an_on_call_engineer_logs_in_sees_an_issue_arrive_pauses_and_approves(
    chromium: Path, kafka_bootstrap: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with dashboard_stack(kafka_bootstrap, tmp_path, admin_token=ADMIN) as (url, prefix):
        operator = HTTP.post(
            f"{url}/api/v1/tokens", json={"name": "oncall", "role": "operator"}, headers={"Authorization": f"Bearer {ADMIN}"}
        ).json()
        topics = TopicRegistry(prefix)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(chromium),
                headless=True,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            page = browser.new_page(viewport={"width": 1366, "height": 900})  # a laptop screen
            try:
                page.goto(f"{url}/dashboard/agent-control")
                expect(page).to_have_url(re.compile(r"/login$"))
                page.fill("#token", "mdc_not_a_real_token_at_all_xxxxxxxxxxxxx")
                page.click("#login-button")
                expect(page.locator(".error")).to_contain_text("not valid")
                page.fill("#token", operator["token"])
                page.click("#login-button")
                expect(page.locator("#mode")).to_have_text("Running")
                expect(page.locator("#feed-state")).to_have_text("live", timeout=15_000)
                expect(page.locator("#agents")).to_contain_text("healthy")

                # An issue published on the bus appears in the live feed and in the issue list.
                events = lifecycle("iss_live")
                publish_from_thread(kafka_bootstrap, topics, events[:1])
                expect(page.locator("#feed")).to_contain_text("iss_live", timeout=30_000)
                expect(page.locator("#issue-iss_live")).to_contain_text("detected", timeout=10_000)

                # The kill switch.
                page.fill("#control-reason", "investigating an outage")
                page.click("#pause-button")
                expect(page.locator("#mode")).to_have_text("Paused", timeout=10_000)
                expect(page.locator("#status")).to_contain_text("investigating an outage")
                state = HTTP.get(f"{url}/api/v1/control/state", headers={"Authorization": f"Bearer {ADMIN}"}).json()
                assert state["paused"] is True
                page.reload()
                expect(page.locator("#agents")).to_contain_text("paused", timeout=10_000)  # the watcher itself says so

                # A fix waiting for approval arrives; the engineer reviews the diff and approves it.
                request = approval_request("iss_live")
                publish_from_thread(kafka_bootstrap, topics, [request])
                card = page.locator(f"#approval-{request.approval_id}")
                expect(card).to_contain_text("left-pad", timeout=30_000)
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
                card.locator(".decision-reason").fill("reviewed the lockfile change")
                card.locator(".approve-button").click()
                expect(page.locator("#message")).to_contain_text("approve done", timeout=10_000)
                expect(page.locator("#no-approvals")).to_be_visible(timeout=10_000)
                decided = HTTP.get(
                    f"{url}/api/v1/approvals/{request.approval_id}", headers={"Authorization": f"Bearer {ADMIN}"}
                ).json()
                assert decided["status"] == "approved" and decided["decided_by"] == "oncall"
                assert decided["decision_reason"] == "reviewed the lockfile change"

                page.goto(f"{url}/dashboard/agent-control/issues/iss_live")
                expect(page.locator("body")).to_contain_text("issue.detected")
                page.screenshot(path=str(ARTIFACTS / "dashboard-issue.png"), full_page=True)
            finally:
                browser.close()
