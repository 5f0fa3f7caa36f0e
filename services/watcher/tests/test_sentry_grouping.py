"""Real Sentry events: they normalise, and Medic groups them the way Sentry does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medic_contracts import TargetConfig
from medic_watcher.domain.fingerprint import fingerprint_of
from medic_watcher.domain.normalize import Normaliser
from medic_watcher.job.detect import detect_from_sentry_events

from .conftest import shared_data

EVENTS = shared_data() / "sentry-events"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def load(name: str) -> dict[str, object]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def fingerprint(name: str) -> str:
    return fingerprint_of(Normaliser().sentry_event(load(name), service="web", now=NOW))


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_every_real_sentry_event_normalises_and_detects(path: Path, target: TargetConfig) -> None:
    event = json.loads(path.read_text(encoding="utf-8"))
    issues = detect_from_sentry_events([event], target=target)
    assert len(issues) == 1
    issue = issues[0]
    assert issue.title and issue.fingerprint and issue.frequency.count == 1
    if event.get("exception"):
        assert issue.exception is not None


def test_events_sentry_hashed_apart_get_distinct_fingerprints() -> None:
    processed = sorted((EVENTS / "processed").glob("*.sentry_processed.json"))
    assert len(processed) == 9
    originals = [p.name.replace(".sentry_processed.json", ".json") for p in processed]
    hashes = [tuple(json.loads(p.read_text())["hashes"]) for p in processed]
    assert len(set(hashes)) == len(hashes)  # Sentry put every one of them in its own group
    assert len({fingerprint(name) for name in originals}) == len(originals)


def test_same_error_before_and_after_source_maps_stays_apart_as_in_sentry() -> None:
    assert fingerprint("javascript_glitchtip_small_error.json") != fingerprint("javascript_glitchtip_small_error_source.json")


def test_same_django_view_error_from_separate_runs_groups_together() -> None:
    names = [
        "python_glitchtip_zero_division.json",
        "python_glitchtip_zero_division_2.json",
        "python_glitchtip_django_divide_zero.json",
    ]
    assert len({fingerprint(n) for n in names}) == 1


def test_same_error_thrown_in_four_browsers_groups_together() -> None:
    names = [f"javascript_sentry_xbrowser_{b}.json" for b in ("chrome", "firefox", "safari", "edge")]
    assert len({fingerprint(n) for n in names}) == 1


def test_client_fingerprint_is_honoured() -> None:
    event = load("python_sentry_celery_custom_fingerprint.json")
    other = json.loads(json.dumps(event))
    other["exception"]["values"][-1]["type"] = "SomethingElse"  # a different error, same client fingerprint
    normaliser = Normaliser()
    a = fingerprint_of(normaliser.sentry_event(event, service="web", now=NOW))
    b = fingerprint_of(normaliser.sentry_event(other, service="web", now=NOW))
    assert a == b
    other["fingerprint"] = ["something", "else"]
    assert fingerprint_of(normaliser.sentry_event(other, service="web", now=NOW)) != a


def test_line_numbers_do_not_split_an_issue_but_a_different_function_does() -> None:
    event = load("python_glitchtip_zero_division.json")
    moved = json.loads(json.dumps(event))
    for frame in moved["exception"]["values"][-1]["stacktrace"]["frames"]:
        frame["lineno"] = (frame.get("lineno") or 0) + 7
    renamed = json.loads(json.dumps(event))
    renamed["exception"]["values"][-1]["stacktrace"]["frames"][-1]["function"] = "post"
    normaliser = Normaliser()
    base = fingerprint_of(normaliser.sentry_event(event, service="web", now=NOW))
    assert fingerprint_of(normaliser.sentry_event(moved, service="web", now=NOW)) == base
    assert fingerprint_of(normaliser.sentry_event(renamed, service="web", now=NOW)) != base


def test_frames_get_repository_paths_when_the_repo_has_the_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "errors").mkdir(parents=True)
    (repo / "errors" / "views.py").write_text("def get():\n    return 0/0\n")
    target = TargetConfig(name="shop", repo=str(repo), language="python", test_command="pytest")
    issue = detect_from_sentry_events([load("python_glitchtip_zero_division.json")], target=target)[0]
    assert issue.frames[-1].file == "errors/views.py"
    assert issue.frames[-1].in_app
    assert issue.frames[-1].line == 18
