"""The dashboard tells the truth, in real headless Chromium: status labels true to the state, "Roll back" only
where something is deployed, a live feed backfilled from the audit log, one 24-hour clock, and each service's
recent log lines."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import ApprovalKind, DeploymentOutcome, DeploymentResult, DiagnosisReady, Envelope, TopicRegistry

from .conftest import HTTP, approval_request, dashboard_stack, lifecycle
from .test_dashboard_browser import publish_from_thread

pytestmark = [pytest.mark.browser, pytest.mark.kafka, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ADMIN = "mdc_truth_admin_" + "t" * 28
CLOCK = re.compile(r"^\d{2}:\d{2}:\d{2}$")


def _issues() -> dict[str, list[Envelope]]:
    """One issue per state the labels and buttons must get right."""
    t0 = datetime.now(UTC) - timedelta(minutes=40)
    needs_human = lifecycle("iss_human", start=t0)
    diagnosis = needs_human[2]
    assert isinstance(diagnosis, DiagnosisReady)
    waiting = lifecycle("iss_waiting", start=t0 + timedelta(minutes=1))
    approval = approval_request("iss_waiting").model_copy(update={"kind": ApprovalKind.DEPLOY})
    blocked = lifecycle("iss_blocked", start=t0 + timedelta(minutes=2))
    staging = blocked[4]
    assert isinstance(staging, DeploymentResult)
    rolled = lifecycle("iss_rolled", start=t0 + timedelta(minutes=3))
    rolled_staging = rolled[4]
    assert isinstance(rolled_staging, DeploymentResult)
    return {
        "iss_human": [*needs_human[:2], diagnosis.model_copy(update={"needs_human": True})],
        "iss_waiting": [*waiting[:4], approval],
        "iss_blocked": [*blocked[:4], staging.model_copy(update={"outcome": DeploymentOutcome.BLOCKED})],
        "iss_rolled": [*rolled[:4], rolled_staging.model_copy(update={"outcome": DeploymentOutcome.ROLLED_BACK})],
        "iss_live": lifecycle("iss_live", start=t0 + timedelta(minutes=4)),
    }


def _all_projected(url: str, headers: dict[str, str], issues: dict[str, list[Envelope]]) -> bool:
    """Whether each issue's timeline holds an audit entry for every event seeded for it."""
    for issue_id, events in issues.items():
        answer = HTTP.get(f"{url}/api/v1/issues/{issue_id}", headers=headers)
        if answer.status_code != 200 or len(answer.json()["timeline"]) < len(events):
            return False
    return True


@pytest.fixture(scope="module")
def dashboard(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """control-api over HTTP with the issues above projected, a watcher beside it, and an operator token."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/install-system.sh installs it)")
    tmp_path = tmp_path_factory.mktemp("truth")
    with dashboard_stack(kafka_bootstrap, tmp_path, admin_token=ADMIN) as (url, prefix):
        issues = _issues()
        publish_from_thread(kafka_bootstrap, TopicRegistry(prefix), [e for issue in issues.values() for e in issue])
        admin = {"Authorization": f"Bearer {ADMIN}"}
        deadline = time.monotonic() + 60
        # Every seeded event is projected, not just each issue's first one: the events of one issue come on
        # several topics, so an issue can be listed before its approval request (or last result) is projected.
        while not _all_projected(url, admin, issues):
            assert time.monotonic() < deadline, "the projector did not project the seeded issues"
            time.sleep(0.2)
        operator = HTTP.post(f"{url}/api/v1/tokens", json={"name": "oncall", "role": "operator"}, headers=admin).json()
        yield {"url": url, "token": operator["token"], "bootstrap": kafka_bootstrap, "prefix": prefix}


@pytest.fixture
def page(dashboard: dict[str, Any]) -> Iterator[Any]:
    """A logged-in operator's page on the dashboard."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
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
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="en-US", timezone_id="America/New_York")
        try:
            page.goto(f"{dashboard['url']}/dashboard/agent-control/login")
            page.fill("#token", dashboard["token"])
            page.click("#login-button")
            page.wait_for_selector("#issues")
            yield page
        finally:
            browser.close()


def test_an_issue_waiting_for_a_person_without_an_approval_reads_needs_a_human(page: Any, dashboard: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#issue-iss_human .status")).to_have_text("needs a human")
    expect(page.locator("#issue-iss_waiting .status")).to_have_text("awaiting approval")
    page.goto(f"{dashboard['url']}/dashboard/agent-control/issues/iss_human")
    expect(page.locator("#issue-status")).to_have_text("needs a human")


def test_roll_back_is_offered_only_where_the_fix_is_deployed(page: Any, dashboard: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#issue-iss_live [data-action=rollback]")).to_have_count(1)
    for never_deployed in ("iss_human", "iss_waiting", "iss_blocked", "iss_rolled"):
        expect(page.locator(f"#issue-{never_deployed} [data-action=rollback]")).to_have_count(0)
    page.goto(f"{dashboard['url']}/dashboard/agent-control/issues/iss_blocked")
    expect(page.locator("[data-action=rollback]")).to_have_count(0)
    refused = HTTP.post(
        f"{dashboard['url']}/api/v1/issues/iss_blocked/rollback",
        json={"reason": "try"},
        headers={"Authorization": f"Bearer {dashboard['token']}"},
    )
    assert refused.status_code == 409 and "deployed" in refused.json()["error"]["message"]


def test_the_live_feed_starts_with_the_latest_audited_actions_on_a_24_hour_clock(page: Any, dashboard: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    feed = page.locator("#feed li")
    expect(feed.first).to_be_visible()
    assert feed.count() >= 10  # the backfill, before anything new happened
    expect(page.locator("#feed")).to_contain_text("iss_live")
    expect(page.locator("#feed-state")).to_have_text("live", timeout=15_000)
    times = page.locator("#feed li time").all_text_contents()
    assert times and all(CLOCK.match(t) for t in times), times
    # a new action arrives live, on the same clock, and nothing is listed twice
    before = feed.count()
    extra = lifecycle("iss_after_load")[:1]
    publish_from_thread(dashboard["bootstrap"], TopicRegistry(dashboard["prefix"]), extra)
    expect(page.locator("#feed li").first).to_contain_text("iss_after_load", timeout=20_000)
    live_time = page.locator("#feed li time").first.text_content()
    assert live_time and CLOCK.match(live_time), live_time
    keys = page.locator("#feed li").evaluate_all("items => items.map(i => i.dataset.key)")
    assert len(keys) == len(set(keys)) and page.locator("#feed li").count() == before + 1


def test_each_service_shows_its_recent_log_lines(page: Any, dashboard: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    marker = f"watcher line {uuid.uuid4().hex[:8]}"
    logging.getLogger("medic.watcher.test").warning(marker)
    page.goto(f"{dashboard['url']}/dashboard/agent-control/logs")
    expect(page.locator("#log-service option")).to_have_count(2)  # control-api itself and the watcher
    page.select_option("#log-level", "debug")
    expect(page.locator("#log-state")).to_contain_text("lines from", timeout=15_000)
    page.select_option("#log-service", "watcher")  # read through the watcher's own /logs
    expect(page.locator("#log-lines")).to_contain_text(marker, timeout=15_000)
    page.select_option("#log-service", "control-api")
    expect(page.locator("#log-lines tr").first).to_be_visible(timeout=15_000)
    first_time = page.locator("#log-lines tr td").first.text_content()
    assert first_time and CLOCK.match(first_time)
