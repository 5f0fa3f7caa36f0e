"""Reading the failure from a diagnosis: its kind and property from the title, the hint's guarded expression and exit,
entity names, and the request carried as evidence.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from medic_contracts import DiagnosisReady, Evidence, FixStrategy, IssueBrief, IssueType, Producer, RequestContext, Severity
from medic_implementer.domain.failure import FailureKind, entity_name, read_failure


def diag(
    title: str, *, strategy: FixStrategy = FixStrategy.NULL_GUARD, hint: str | None = None, root: str = "x"
) -> DiagnosisReady:
    return DiagnosisReady(
        producer=Producer(service="investigator", instance="t"),
        issue_id="iss_1",
        issue=IssueBrief(
            target="shop", service="web", title=title, severity=Severity.P2, issue_type=IssueType.API_ERROR, fingerprint="f"
        ),
        root_cause=root,
        affected_file="a.py",
        fix_strategy=strategy,
        fix_hint=hint,
        confidence=0.9,
        fixability=0.9,
        estimated_fix_time=timedelta(minutes=1),
        provider="playbook",
    )


@pytest.mark.parametrize(
    ("title", "kind", "prop"),
    [
        ("TypeError: Cannot read properties of null (reading 'name')", FailureKind.NONE_VALUE, "name"),
        ("TypeError: Cannot read properties of undefined (reading 'id')", FailureKind.NONE_VALUE, "id"),
        ("TypeError: Cannot read property 'email' of undefined", FailureKind.NONE_VALUE, "email"),
        ("AttributeError: 'NoneType' object has no attribute 'plan'", FailureKind.NONE_VALUE, "plan"),
        ("KeyError: 'campaign_id'", FailureKind.MISSING_KEY, None),
        ("IndexError: list index out of range", FailureKind.OUT_OF_BOUNDS, None),
        ("ZeroDivisionError: division by zero", FailureKind.DIVIDE_BY_ZERO, None),
        ("ValueError: max() arg is an empty sequence", FailureKind.EMPTY_ITERABLE, None),
        ("TypeError: Reduce of empty array with no initial value", FailureKind.EMPTY_ITERABLE, None),
        ("TypeError: req.query.tag.split is not a function", FailureKind.WRONG_SHAPE, None),
        ("TypeError: tags.map is not a function", FailureKind.WRONG_SHAPE, None),
        ("RangeError: Invalid time value", FailureKind.INVALID_DATE, None),
        ("TypeError: nights.toFixed is not a function", FailureKind.WRONG_TYPE, None),
    ],
)
def test_the_failure_kind_and_property_are_read_from_the_title(title: str, kind: FailureKind, prop: str | None) -> None:
    read = read_failure(diag(title))
    assert read.kind is kind and read.property_name == prop


def test_the_hint_names_the_guarded_expression_and_the_exit() -> None:
    read = read_failure(diag("TypeError: x", hint="guard `practice`; return 404 'Practice not found'"))
    assert read.hinted_expression == "practice" and read.exit_status == 404 and read.exit_message == "Practice not found"
    assert read_failure(diag("KeyError: 'plan'")).missing_key == "plan"


def test_entity_names_read_like_words() -> None:
    assert entity_name("practice") == "Practice"
    assert entity_name("user.billingAccount") == "Billing account"
    assert entity_name('data["practice_id"]') == "Practice id"


def test_request_evidence_round_trips() -> None:
    from medic_implementer.domain.failure import request_from_evidence

    d = diag("x").model_copy(
        update={
            "evidence": (
                Evidence(kind="request", summary="r", detail=RequestContext(method="GET", url="http://a/b").model_dump_json()),
            )
        }
    )
    assert request_from_evidence(d) == RequestContext(method="GET", url="http://a/b")


def test_the_lines_the_suspect_commit_removed_are_read_from_the_blame_evidence() -> None:
    patch = (
        "--- a/src/r.ts\n+++ b/src/r.ts\n@@ -6 +6 @@\n"
        '-  const d = String(req.query.diet).split(",");\n'
        "+  const d = req.query.diet;\n"
    )
    base = diag("TypeError: d.map is not a function")
    blamed = base.model_copy(update={"evidence": (Evidence(kind="git_blame", summary="fault lines last changed", detail=patch),)})
    assert read_failure(blamed).removed_lines == ('const d = String(req.query.diet).split(",");',)
    assert read_failure(base).removed_lines == ()
