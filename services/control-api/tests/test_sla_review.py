"""Severity SLAs (deadline escalation and misses, with a fixed clock), false-positive marks and the weekly review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from medic_contracts import (
    CommandName,
    ControlCommand,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    Envelope,
    IssueDetected,
    Severity,
    TopicName,
    TopicRegistry,
)
from medic_control.actions.models import Action
from medic_control.notify import Notifier
from medic_control.review.digest import WeeklyDigest
from medic_control.sla.service import SlaState, sla_state
from medic_runtime.notify import SendGridMailer, SlackPoster
from medic_testing.runtime.fakes import FakeSendGrid, FakeSlack, serve, smtp_inbox
from medic_testing.runtime.topics import read_topic

from .conftest import ControlHarness, StartControl, lifecycle, seed

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def detected(issue_id: str, severity: Severity, *, at: datetime, deadline: datetime | None, **extra: Any) -> IssueDetected:
    base = lifecycle(issue_id, start=at)[0]
    assert isinstance(base, IssueDetected)
    return base.model_copy(update={"severity": severity, "deadline": deadline, "title": f"{severity.value} {issue_id}", **extra})


async def actions(control: ControlHarness, name: str) -> list[Any]:
    async with control.runtime.store.engine.connect() as conn:
        return list((await conn.execute(select(Action).where(Action.action == name).order_by(Action.seq))).all())


def test_a_deadline_is_on_track_then_at_risk_within_the_margin_then_missed() -> None:
    deadline, margin = T0 + timedelta(minutes=30), timedelta(minutes=10)
    assert sla_state(deadline=deadline, now=T0 + timedelta(minutes=19), escalate_before=margin) is SlaState.ON_TRACK
    assert sla_state(deadline=deadline, now=T0 + timedelta(minutes=20), escalate_before=margin) is SlaState.AT_RISK
    assert sla_state(deadline=deadline, now=deadline, escalate_before=margin) is SlaState.MISSED


async def test_a_deadline_about_to_pass_escalates_once_and_a_passed_one_is_recorded_as_missed(
    store_url: str, start_control: StartControl
) -> None:
    clock = Clock(T0)
    slack, sendgrid = FakeSlack(), FakeSendGrid()
    async with serve(slack.app()) as slack_url, serve(sendgrid.app()) as sendgrid_url:
        notifier = Notifier(
            slack=SlackPoster(token=slack.token, channel="#medic", base_url=f"{slack_url}/api/"),
            mailer=SendGridMailer(api_key=sendgrid.api_key, base_url=sendgrid_url),
            mail_from="medic@example.com",
            mail_to=("oncall@example.com",),
        )
        # The test drives the watch by hand: a periodic check between seeding and the false-positive mark would escalate
        # iss_noise (due in 5 min at T0) on its own.
        control = await start_control(
            store_url, clock=clock, notifier=notifier, dashboard_url="https://medic.example", sla_check_interval_s=3600
        )
        fixed = lifecycle("iss_fixed", start=T0 - timedelta(minutes=40))  # resolved: its deadline no longer matters
        await seed(
            control,
            [
                detected("iss_p1", Severity.P1, at=T0, deadline=T0 + timedelta(minutes=30)),
                detected("iss_p3", Severity.P3, at=T0, deadline=T0 + timedelta(hours=24)),
                detected("iss_p4", Severity.P4, at=T0, deadline=None),
                detected("iss_noise", Severity.P2, at=T0, deadline=T0 + timedelta(minutes=5)),
                fixed[0].model_copy(update={"deadline": T0 - timedelta(minutes=35)}),
                *fixed[1:],
            ],
        )
        async with control.client("operator") as api:
            marked = await api.post("/api/v1/issues/iss_noise/false-positive", json={"reason": "a load test"})
            assert marked.status_code == 200, marked.text
        watch = control.runtime.http.state.deadline_watch

        clock.now = T0 + timedelta(minutes=19)
        assert await watch.run_once() == []
        clock.now = T0 + timedelta(minutes=21)
        [escalated] = await watch.run_once()
        assert (escalated.issue_id, escalated.state) == ("iss_p1", SlaState.AT_RISK)
        assert await watch.run_once() == []  # escalated once, not every check
        clock.now = T0 + timedelta(minutes=31)
        [missed] = await watch.run_once()
        assert (missed.issue_id, missed.state) == ("iss_p1", SlaState.MISSED)
        assert await watch.run_once() == []

    [escalation_row] = await actions(control, "sla.escalated")
    [miss_row] = await actions(control, "sla.missed")
    assert escalation_row.issue_id == miss_row.issue_id == "iss_p1"
    assert miss_row.status == "failed" and "missed" in miss_row.summary
    assert escalation_row.occurred_at == T0 + timedelta(minutes=21)
    texts = [m["text"] for m in slack.messages if "SLA" in m["text"]]  # (Monday 09:00: the weekly review went out too)
    assert len(texts) == 2 and "SLA at risk" in texts[0] and "due in 9 min" in texts[0] and "SLA missed" in texts[1]
    assert "https://medic.example/dashboard/agent-control/issues/iss_p1" in texts[0]
    assert [m["subject"] for m in sendgrid.mails if "SLA" in m["subject"]] == [
        "[Medic] SLA at risk: P1 iss_p1 is due in 9 min (09:30 UTC)",
        "[Medic] SLA missed: P1 iss_p1 was due 2026-11-23 09:30 UTC",
    ]
    async with control.client("viewer") as api:
        listed = {i["id"]: i for i in (await api.get("/api/v1/issues")).json()["items"]}
    async with control.client() as browser:
        browser.cookies.set("medic_session", control.secrets["viewer"])
        page = (await browser.get("/dashboard/agent-control")).text
    assert listed["iss_p1"]["deadline"].startswith("2026-11-23T09:30")
    assert listed["iss_p1"]["sla_missed_at"] and listed["iss_p4"]["deadline"] is None
    assert listed["iss_noise"]["false_positive"] is True and listed["iss_noise"]["sla_escalated_at"] is None
    assert listed["iss_fixed"]["sla_missed_at"] is None
    assert 'id="issue-iss_p1" class="sla-missed"' in page and 'id="issue-iss_p3">' in page


async def test_marking_a_false_positive_is_audited_and_broadcast_as_feedback(
    store_url: str, start_control: StartControl, kafka_bootstrap: str
) -> None:
    control = await start_control(store_url)
    await seed(control, [detected("iss_fp", Severity.P3, at=T0, deadline=None)])
    async with control.client("viewer") as viewer, control.client("operator") as operator:
        assert (await viewer.post("/api/v1/issues/iss_fp/false-positive", json={})).status_code == 403
        assert (await operator.post("/api/v1/issues/iss_nope/false-positive", json={})).status_code == 404
        accepted = (await operator.post("/api/v1/issues/iss_fp/false-positive", json={"reason": "health probe"})).json()
        assert accepted["command"] == "feedback" and accepted["issue_id"] == "iss_fp"
        assert (await operator.get("/api/v1/issues/iss_fp")).json()["false_positive"] is True
    [row] = await actions(control, "control.feedback")
    assert row.actor == "operator-user" and "false positive" in row.summary and row.details["false_positive"] is True
    commands = await read_topic(
        kafka_bootstrap,
        TopicRegistry(control.settings.topic_prefix).name(TopicName.CONTROL),
        until=lambda es: any(isinstance(e, ControlCommand) and e.command is CommandName.FEEDBACK for e in es),
    )
    feedback = [c for c in commands if isinstance(c, ControlCommand) and c.command is CommandName.FEEDBACK]
    assert len(feedback) == 1 and feedback[0].false_positive is True and feedback[0].issue_id == "iss_fp"


def week_of_events() -> list[Envelope]:
    """Within the week before T0 + 7 days: two P2 issues fixed automatically (20 and 30 min), one P3 rolled back
    in production (an automatic deploy that failed), and two P4 issues."""
    start = T0 + timedelta(days=1)
    fast = lifecycle("iss_fast", start=start)
    slow = lifecycle("iss_slow", start=start + timedelta(hours=1))
    slow[-1] = slow[-1].model_copy(update={"occurred_at": start + timedelta(hours=1, minutes=30)})
    bad = lifecycle("iss_bad", start=start + timedelta(hours=2))
    bad = [e.model_copy(update={"severity": Severity.P3}) if isinstance(e, IssueDetected) else e for e in bad]
    last = bad[-1]
    assert isinstance(last, DeploymentResult)
    bad[-1] = last.model_copy(update={"outcome": DeploymentOutcome.ROLLED_BACK, "stage": DeploymentStage.PRODUCTION})
    p4s = [
        detected("iss_p4_a", Severity.P4, at=start, deadline=None, title="Deprecated API warning <!channel>"),
        detected("iss_p4_b", Severity.P4, at=start + timedelta(hours=5), deadline=None),
    ]
    return [*fast, *slow, *bad, *p4s]


async def test_the_weekly_review_sets_each_figure_beside_its_target_and_counts_human_false_positives(
    store_url: str, start_control: StartControl
) -> None:
    until = T0 + timedelta(days=7)
    control = await start_control(store_url, clock=Clock(until))
    await seed(control, week_of_events())
    await seed(control, [detected("iss_last_week", Severity.P2, at=T0 - timedelta(days=2), deadline=None)])
    async with control.client("operator") as api:
        before = (await api.get("/api/v1/review/weekly")).json()
        await api.post("/api/v1/issues/iss_p4_b/false-positive", json={"reason": "a crawler"})
        after = (await api.get("/api/v1/review/weekly", params={"until": until.isoformat()})).json()
        bad_until = await api.get("/api/v1/review/weekly", params={"until": "next tuesday"})
    assert bad_until.status_code == 422
    figures = {m["name"]: m for m in before["metrics"]}
    assert figures["issues_detected"]["value"] == 5  # last week's issue is not in this week
    assert figures["fixed_automatically"]["display"] == "40% (2 of 5)" and figures["fixed_automatically"]["met"] is False
    assert figures["median_time_to_fix_s"]["value"] == 25 * 60 and figures["median_time_to_fix_s"]["met"] is False
    assert figures["failed_auto_deployments"]["value"] == 1 and figures["failed_auto_deployments"]["met"] is False
    assert figures["fix_success_rate"]["value"] == pytest.approx(2 / 3) and figures["fix_success_rate"]["target"] == "95%+"
    assert figures["rollbacks"]["value"] == 1 and figures["rollbacks"]["target"] is None
    assert figures["false_positive_rate"]["value"] == 0 and figures["false_positive_rate"]["met"] is True
    assert figures["llm_spend_usd"]["display"] == "$0.75"
    assert before["targets_judged"] == 5 and before["targets_met"] == 1
    assert [i["id"] for i in before["p4_issues"]] == ["iss_p4_b", "iss_p4_a"] or {i["id"] for i in before["p4_issues"]} == {
        "iss_p4_a",
        "iss_p4_b",
    }
    marked = {m["name"]: m for m in after["metrics"]}
    assert marked["false_positive_rate"]["display"] == "20.0% (1 of 5)" and marked["false_positive_rate"]["met"] is False
    assert marked["fixed_automatically"]["display"] == "50% (2 of 4)"  # a false positive had nothing to fix
    assert next(i for i in after["p4_issues"] if i["id"] == "iss_p4_b")["false_positive"] is True


async def test_the_weekly_digest_goes_to_slack_and_email_through_smtp_or_sendgrid_once_a_week(
    tmp_path: Any, start_control: StartControl
) -> None:
    clock = Clock(T0 + timedelta(days=6))  # Sunday: the review is not due at start-up
    slack, sendgrid = FakeSlack(), FakeSendGrid()
    with smtp_inbox() as inbox:
        async with serve(slack.app()) as slack_url, serve(sendgrid.app()) as sendgrid_url:
            control = await start_control(
                f"sqlite+aiosqlite:///{tmp_path / 'review.db'}",
                clock=clock,
                notify_slack_channel="#medic",
                notify_slack_token=slack.token,
                notify_slack_base_url=f"{slack_url}/api/",
                notify_email_provider="smtp",
                notify_email_from="medic@example.com",
                notify_email_to=["oncall@example.com"],
                notify_smtp_host=inbox.host,
                notify_smtp_port=inbox.port,
                dashboard_url="https://medic.example",
            )
            await seed(control, week_of_events())
            digest: WeeklyDigest = control.runtime.http.state.weekly_digest
            assert await digest.send_if_due() is None
            clock.now = T0 + timedelta(days=7, minutes=5)  # Monday 09:05, the configured time
            first = await digest.send_if_due()
            assert first is not None and first.delivered == ["slack", "email"] and first.failed == {}
            assert await digest.send_if_due() is None  # once per week
            clock.now = T0 + timedelta(days=8)  # Tuesday: not the review day
            assert await digest.send_if_due() is None
            # The same digest through SendGrid, as a deployment configured for it would send it.
            via_sendgrid = Notifier(mailer=SendGridMailer(api_key=sendgrid.api_key, base_url=sendgrid_url),
                                    mail_from="medic@example.com", mail_to=("lead@example.com",))  # fmt: skip
            again = WeeklyDigest(control.runtime, via_sendgrid, clock=clock, settings=control.settings)
            sent = await again.send(until=T0 + timedelta(days=7))
            assert sent.delivered == ["email"]
            async with control.client("operator") as api:
                on_demand = (await api.post("/api/v1/review/weekly/send")).json()
            assert on_demand["delivered"] == ["slack", "email"]
            broken = WeeklyDigest(control.runtime, Notifier(slack=SlackPoster(token="xoxb-revoked", channel="#medic",
                                  base_url=f"{slack_url}/api/")), clock=clock, settings=control.settings)  # fmt: skip
            assert "invalid_auth" in (await broken.send()).failed["slack"]
    message = slack.messages[0]
    assert "targets met" in message["text"]
    blocks = str(message["blocks"])
    assert "Median time to fix" in blocks and "&lt; 5 min" in blocks and "iss_p4_a" in blocks
    assert "<!channel>" not in blocks and "&lt;!channel&gt;" in blocks  # an attacker's title mentions nobody
    mail = inbox.messages[0]
    assert mail["Subject"].startswith("[Medic] Weekly review 23 Nov – 30 Nov 2026") and mail["To"] == "oncall@example.com"
    plain = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Fix success rate" in plain and "(target 95%+) missed" in plain and "https://medic.example" in plain
    html_part = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "&lt;!channel&gt;" in html_part
    [sg] = sendgrid.mails
    assert sg["personalizations"] == [{"to": [{"email": "lead@example.com"}]}] and "P4 issues (2" in sg["content"][0]["value"]
