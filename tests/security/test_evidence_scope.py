"""Issue 12, finding 2 (investigator half): only code-derived evidence widens what a fix may touch unasked.

A model can cite any file as a "source"; if that counted, it could talk the implementer into treating
a change to an unrelated file as "within the evidence" (no approval needed). Stack frames, blame and
history come from the code and the event; they are the only evidence that counts.
"""

from __future__ import annotations

import pytest

from medic_contracts import CODE_EVIDENCE_KINDS, Evidence, FixStrategy
from medic_implementer.domain.failure import evidence_files
from medic_investigator.domain.diagnosis import model_evidence_kind
from medic_testing.implementer import diagnosis


def _diag(*evidence: Evidence):  # type: ignore[no-untyped-def]
    return diagnosis(affected_file="app/main.py", lines=(1, 1), title="t", strategy=FixStrategy.LLM_EDIT, evidence=evidence)


@pytest.mark.parametrize(
    "kind", ["code", "log", "metric", "memory", "triage", "model_stack_frame", "model_git_blame", "policy", "request"]
)
def test_evidence_a_model_or_the_telemetry_names_does_not_widen_the_files(kind: str) -> None:
    files = evidence_files(_diag(Evidence(kind=kind, summary="see here", source="src/app/lib/payments.py:3")))
    assert files == frozenset({"app/main.py"})


@pytest.mark.parametrize("kind", sorted(CODE_EVIDENCE_KINDS))
def test_code_derived_evidence_widens_the_files(kind: str) -> None:
    files = evidence_files(_diag(Evidence(kind=kind, summary="frame", source="app/db.py:12")))
    assert files == frozenset({"app/main.py", "app/db.py"})


@pytest.mark.parametrize("claimed", ["stack_frame", "git_blame", "git_log", " stack_frame "])
def test_a_model_cannot_label_its_evidence_as_code_derived(claimed: str) -> None:
    assert model_evidence_kind(claimed) not in CODE_EVIDENCE_KINDS


def test_a_models_ordinary_evidence_kind_is_kept() -> None:
    assert model_evidence_kind("code") == "code"
    assert model_evidence_kind("") == "code"


@pytest.mark.parametrize(
    ("source", "expected"),
    [("./app/db.py:3", "app/db.py"), ("././app/db.py:3", "app/db.py"), (".github/workflows/ci.py:3", ".github/workflows/ci.py")],
)
def test_evidence_paths_keep_their_leading_dots(source: str, expected: str) -> None:
    files = evidence_files(_diag(Evidence(kind="stack_frame", summary="frame", source=source)))
    assert files == frozenset({"app/main.py", expected})  # `.github/…` is not read as `github/…`
