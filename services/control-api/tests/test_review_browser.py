"""The weekly review and the SLA highlight in real headless Chromium; a human marks a P4 issue as a false positive."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medic_contracts import IssueDetected, Severity, TopicRegistry

from .conftest import HTTP, control_server, lifecycle
from .test_dashboard_browser import ARTIFACTS, chromium, publish_from_thread  # noqa: F401 - chromium is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.kafka, pytest.mark.slow]

ADMIN = "mdc_review_admin_" + "r" * 27


def _issue(issue_id: str, severity: Severity, *, at: datetime, deadline: datetime | None, title: str) -> IssueDetected:
    base = lifecycle(issue_id, start=at)[0]
    assert isinstance(base, IssueDetected)
    return base.model_copy(update={"severity": severity, "deadline": deadline, "title": title})


def test_an_operator_reads_the_weekly_review_sees_a_missed_sla_and_marks_a_p4_as_a_false_positive(
    chromium: Path,  # noqa: F811 - the fixture
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    now = datetime.now(UTC)
    with control_server(kafka_bootstrap, tmp_path, admin_token=ADMIN, projector_enabled=True, sla_check_interval_s=0.5) as (
        url,
        control,
    ):
        admin = {"Authorization": f"Bearer {ADMIN}"}
        operator = HTTP.post(f"{url}/api/v1/tokens", json={"name": "reviewer", "role": "operator"}, headers=admin).json()
        events = [
            *lifecycle("iss_fixed", start=now - timedelta(hours=3)),
            _issue(
                "iss_late",
                Severity.P1,
                at=now - timedelta(hours=1),
                deadline=now - timedelta(minutes=30),
                title="TypeError in checkout",
            ),
            _issue("iss_p4", Severity.P4, at=now - timedelta(hours=2), deadline=None, title="Deprecated header <b>warning</b>"),
        ]
        publish_from_thread(kafka_bootstrap, TopicRegistry(control.settings.topic_prefix), events)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            items = HTTP.get(f"{url}/api/v1/issues", headers=admin).json()["items"]
            late = next((i for i in items if i["id"] == "iss_late"), None)
            if len(items) == 3 and late and late["sla_missed_at"]:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("issues not projected and checked in time")

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), headless=True,
                                        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                              "--disable-component-update", "--disable-sync"])  # fmt: skip
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            try:
                page.goto(f"{url}/dashboard/agent-control/login")
                page.fill("#token", operator["token"])
                page.click("#login-button")
                late_row = page.locator("#issue-iss_late")
                expect(late_row).to_have_class(re.compile(r"\bsla-missed\b"))
                expect(late_row).to_contain_text("SLA missed")
                assert late_row.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(251, 224, 222)"
                expect(page.locator("#issue-iss_fixed")).not_to_have_class(re.compile("sla-"))

                page.click("text=Weekly review")
                expect(page).to_have_url(re.compile(r"/review$"))
                expect(page.locator("#metric-issues_detected")).to_contain_text("3")
                expect(page.locator("#metric-median_time_to_fix_s")).to_contain_text("< 5 min")
                expect(page.locator("#metric-sla_missed")).to_contain_text("1")
                expect(page.locator("#metric-false_positive_rate")).to_contain_text("0.0% (0 of 3)")
                p4 = page.locator("#p4-iss_p4")
                expect(p4).to_contain_text("Deprecated header <b>warning</b>")  # shown as text, not markup
                page.once("dialog", lambda dialog: dialog.accept("a browser extension, not our code"))
                p4.locator("button[data-action=false-positive]").click()
                expect(page.locator("#p4-iss_p4")).to_contain_text("false positive", timeout=10_000)
                expect(page.locator("#metric-false_positive_rate")).to_contain_text("33.3% (1 of 3)")
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "dashboard-review.png"), full_page=True)
            finally:
                browser.close()
        review = HTTP.get(f"{url}/api/v1/review/weekly", headers=admin).json()
        marked = HTTP.get(f"{url}/api/v1/issues/iss_p4", headers=admin).json()
    assert next(m for m in review["metrics"] if m["name"] == "false_positive_rate")["met"] is False
    assert marked["false_positive"] is True
    assert any(a["action"] == "control.feedback" and a["actor"] == "reviewer" for a in marked["timeline"])
