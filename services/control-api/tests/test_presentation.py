"""The rules behind the dashboard's labels and buttons (pure)."""

from __future__ import annotations

import pytest

from medic_control.issues.presentation import deployed_stages, status_label


@pytest.mark.parametrize(
    ("status", "pending", "text"),
    [
        ("awaiting_approval", True, "awaiting approval"),
        ("awaiting_approval", False, "needs a human"),
        ("rolled_back", False, "rolled back"),
        # A deploy approval is asked after the fix was committed: the issue waits for it, whatever it said last.
        ("deploying", True, "awaiting approval"),
        ("deploying", False, "deploying"),
        ("resolved", True, "resolved"),  # an ended issue never reads as waiting
    ],
)
def test_the_status_label_says_what_the_issue_waits_for(status: str, pending: bool, text: str) -> None:
    assert status_label(status, approval_pending=pending).text == text


@pytest.mark.parametrize(
    ("results", "deployed"),
    [
        ([], set()),
        ([("staging", "blocked")], set()),
        ([("staging", "awaiting_approval"), ("staging", "failed")], set()),
        ([("staging", "promoted")], {"staging"}),
        ([("staging", "promoted"), ("production", "promoted"), ("production", "verified")], {"staging", "production"}),
        ([("staging", "promoted"), ("staging", "rolled_back")], set()),
        ([("staging", "promoted"), ("production", "blocked")], {"staging"}),
        ([("staging", "promoted"), ("staging", "rolled_back"), ("staging", "promoted")], {"staging"}),
    ],
)
def test_roll_back_applies_only_to_stages_running_the_fix(results: list[tuple[str, str]], deployed: set[str]) -> None:
    assert deployed_stages(results) == deployed
