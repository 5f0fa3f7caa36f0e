"""The literal pre-filter (and the memo of short values) skip regex scans only: the redacted text is the same.

Proved on real text: every line of the shared Loghub-2k systems and every string of the shared Sentry
events, as they are and with planted secrets and personal data, redacted with and without the pre-filter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medic_runtime import Redactor
from medic_runtime.redaction.prefilter import required_literals

from .test_redaction import SECRETS


def _shared_data() -> Path:
    for parent in Path(__file__).resolve().parents:
        candidate = parent.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path("/work/shared/data")


DATA = _shared_data()
PLANTED = (
    *SECRETS.values(),
    "call +44 20 7946 0958",
    "IBAN GB82WEST12345698765432",
    "tok 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _texts() -> Iterator[str]:
    logs = sorted((DATA / "loghub-2k").glob("*/*_2k.log"))
    events = sorted((DATA / "sentry-events").glob("*.json"))
    if not logs or not events:
        pytest.fail(f"shared data missing under {DATA}")
    for path in logs:
        yield from path.read_text(errors="replace").splitlines()
    for path in events:
        body = path.read_text(errors="replace")
        yield body
        yield from _strings(json.loads(body))


def test_the_prefiltered_redactor_gives_exactly_the_same_text_on_the_shared_logs_and_events() -> None:
    fast, reference = Redactor(), Redactor(literal_prefilter=False)
    texts = list(_texts())
    assert len(texts) > 16_000
    changed = 0
    for n, text in enumerate(texts):
        planted = f"{text} {PLANTED[n % len(PLANTED)]}"
        for value in (text, planted):
            expected = reference.text(value)
            assert fast.text(value) == expected, value
            assert fast.text(value) == expected, value  # the second call is answered from the memo
            changed += expected != value
    assert changed >= len(texts)  # every planted secret was redacted, by both


def test_whole_files_and_nested_values_are_redacted_the_same_with_the_prefilter() -> None:
    fast, reference = Redactor(), Redactor(literal_prefilter=False)
    for path in sorted((DATA / "sentry-events").glob("*.json")):
        body = path.read_text(errors="replace")
        assert fast.file_body(body, str(path)) == reference.file_body(body, str(path))
        assert fast.value(json.loads(body)) == reference.value(json.loads(body))


@pytest.mark.parametrize(
    ("pattern", "needs"),
    [
        (r"ghp_[A-Za-z0-9]{36}", ("ghp_",)),
        (r"(?:\s|=|:|\"|^)AKC[a-zA-Z0-9]{10,}", ("AKC",)),
        (r"\d{3}[.-]\d{3}", (".", "-")),
        (r"(?:AKIA|ASIA)[A-Z0-9]{16}", ("KIA", "SIA")),  # the parser takes the common "A" out first
        (r"(?i)bearer\s+\S+", ()),  # a case-insensitive pattern gets no literal
        (r"(?:x)?[A-Z]{40,}", ()),  # an optional part is not required
        (r"(?:ab|[a-z]+)c", ("c",)),  # a branch without a literal contributes nothing
    ],
)
def test_the_required_literals_are_read_off_the_pattern(pattern: str, needs: tuple[str, ...]) -> None:
    assert required_literals(re.compile(pattern)) == needs
