"""The real Sentry-protocol events in ../shared/data/sentry-events, parsed and checked against their manifest."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import pytest

from medic_stacktrace import (
    ChainRelation,
    InAppRules,
    RepoPathResolver,
    TraceLanguage,
    find_culprit,
    frame_from_sentry,
    parse_sentry_event,
)


def _load(directory: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / name).read_text(encoding="utf-8"))
    return data


def _manifest(directory: Path) -> list[dict[str, str]]:
    with (directory / "manifest.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_event_matches_its_manifest_row(sentry_events_dir: Path) -> None:
    rows = _manifest(sentry_events_dir)
    assert len(rows) >= 30
    for row in rows:
        trace = parse_sentry_event(_load(sentry_events_dir, row["file"]))
        assert len(trace.exceptions) == int(row["n_exceptions"]), row["file"]
        if int(row["n_exceptions"]) == 0:
            assert trace.main is None, row["file"]
            continue
        main = trace.exceptions[-1]  # the manifest lists the last exception of the payload
        assert main.type == row["exception_type"], row["file"]
        assert main.value.startswith(row["exception_value"]), row["file"]  # the manifest truncates long values
        assert sum(len(e.frames) for e in trace.exceptions) == int(row["n_frames"]), row["file"]
        assert trace.main is not None and trace.exception_info() is not None


RUBY_CONTROLLER = "app/controllers/articles_controller.rb"
JS_FUNCTION = "viewWrappedDebugError"
# (file, repository files, expected culprit repo path, line, function); Sentry's processed
# counterparts name the same location (processed/*.sentry_processed.json "metadata").
CULPRITS = [
    ("python_glitchtip_zero_division.json", ["errors/views.py", "errors/urls.py"], "errors/views.py", 18, "get"),
    ("python_glitchtip_django_divide_zero.json", ["errors/views.py"], "errors/views.py", 12, "get"),
    ("python_glitchtip_django_post_error.json", ["errors/views.py"], "errors/views.py", 22, "post"),
    ("python_glitchtip_django_database_error.json", ["errors/views.py"], "errors/views.py", 17, "get"),
    (
        "python_bugsink_none_in_context.json",
        ["ingest/management/commands/stress_test.py", "ingest/models.py"],
        "ingest/management/commands/stress_test.py",
        191,
        "print_stats",
    ),
    ("python_bugsink_exception_group.json", ["exceptiongroup.py"], "exceptiongroup.py", 1, "<module>"),
    ("csharp_glitchtip_divide_zero.json", ["Pages/Divide-Zero.cs"], "Pages/Divide-Zero.cs", 14, "DivideByZero"),
    (
        "ruby_glitchtip_zero_division.json",
        ["app/controllers/articles_controller.rb"],
        "app/controllers/articles_controller.rb",
        3,
        "/",
    ),
    (
        "javascript_glitchtip_event_with_unix_timestamp.json",
        ["vendor.js", "main.js"],
        "vendor.js",
        63709,
        "viewWrappedDebugError",
    ),
]


@pytest.mark.parametrize(("name", "files", "repo_path", "line", "function"), CULPRITS)
def test_culprit_is_the_deepest_in_app_frame_in_the_repository(
    sentry_events_dir: Path, name: str, files: list[str], repo_path: str, line: int, function: str
) -> None:
    trace = parse_sentry_event(_load(sentry_events_dir, name))
    culprit = find_culprit(trace, RepoPathResolver(files))
    assert culprit is not None
    assert (culprit.repo_path, culprit.line, culprit.frame.function) == (repo_path, line, function)


def test_processed_counterparts_agree_on_title_and_location(sentry_events_dir: Path) -> None:
    checked = 0
    for processed in sorted((sentry_events_dir / "processed").glob("*.sentry_processed.json")):
        original = processed.name.replace(".sentry_processed.json", ".json")
        meta = json.loads(processed.read_text(encoding="utf-8")).get("metadata", {})
        trace = parse_sentry_event(_load(sentry_events_dir, original))
        if "type" not in meta:
            assert trace.main is None, original  # log-message events
            continue
        assert trace.main is not None
        assert (trace.main.type, trace.main.value) == (meta["type"], meta["value"]), original
        culprit = find_culprit(trace)
        if culprit is not None and "function" in meta:
            assert culprit.frame.function == meta["function"], original
            checked += 1
    assert checked >= 3


def test_site_packages_frames_are_never_in_app_even_when_the_sdk_says_so(sentry_events_dir: Path) -> None:
    event = _load(sentry_events_dir, "python_glitchtip_py_error.json")
    sdk_flags = [f.get("in_app") for f in event["exception"]["values"][0]["stacktrace"]["frames"]]
    assert all(sdk_flags)  # GlitchTip's sample marks django's own frames in-app
    trace = parse_sentry_event(event)
    assert not any(f.in_app for f in trace.frames)
    assert find_culprit(trace) is None


def test_exception_group_event_keeps_sentry_ids_and_relations(sentry_events_dir: Path) -> None:
    trace = parse_sentry_event(_load(sentry_events_dir, "python_bugsink_exception_group.json"))

    assert trace.language is TraceLanguage.PYTHON
    got = [(e.type, e.exception_id, e.parent_id, e.relation, e.is_group) for e in trace.exceptions]
    member = ChainRelation.GROUP_MEMBER
    assert got == [
        ("TypeError", 5, 0, member, False),
        ("ModuleNotFoundError", 4, 2, member, False),
        ("ImportError", 3, 2, member, False),
        ("ExceptionGroup", 2, 0, member, True),
        ("ValueError", 1, 0, member, False),
        ("ExceptionGroup", 0, None, None, True),
    ]
    assert trace.main is not None and (trace.main.type, trace.main.value) == ("ExceptionGroup", "nested")
    frozen = [f for f in trace.main.frames if "<frozen" in f.file]
    assert frozen and not any(f.in_app for f in frozen)  # the SDK marked <frozen runpy> in-app


def test_exception_group_of_identical_members_names_the_member(sentry_events_dir: Path) -> None:
    event = _load(sentry_events_dir, "python_bugsink_exception_group.json")
    values = event["exception"]["values"]
    # keep only the root group and two identical ValueError members
    root = next(v for v in values if v["mechanism"]["exception_id"] == 0)
    member = next(v for v in values if v["type"] == "ValueError")
    twin = copy.deepcopy(member)
    twin["mechanism"]["exception_id"] = 7
    event["exception"]["values"] = [twin, member, root]

    trace = parse_sentry_event(event)
    assert trace.main is not None and trace.main.type == "ValueError" and trace.main.exception_id == 1


def test_chained_java_exceptions_without_mechanism_ids_form_a_cause_chain(sentry_events_dir: Path) -> None:
    trace = parse_sentry_event(_load(sentry_events_dir, "java_sentry_chained.json"))
    assert [e.relation for e in trace.exceptions] == [ChainRelation.CAUSE, ChainRelation.CAUSE, None]
    info = trace.exception_info()
    assert info is not None and info.type == "LifecycleException" and info.chained == ("BindException", "LifecycleException")
    root = trace.root_cause
    assert root is not None and root.type == "BindException" and root.module == "java.net"


def test_frames_keep_context_lines_and_vars(sentry_events_dir: Path) -> None:
    trace = parse_sentry_event(_load(sentry_events_dir, "python_glitchtip_zero_division.json"))
    culprit = find_culprit(trace)
    assert culprit is not None
    frame = culprit.frame
    assert frame.context_line is not None and "/" in frame.context_line
    assert frame.pre_context and frame.module == "errors.views"
    assert all(isinstance(v, str) and len(v) <= 512 for v in frame.vars.values())


def test_missing_exception_frames_are_taken_from_the_crashed_thread(sentry_events_dir: Path) -> None:
    event = _load(sentry_events_dir, "ruby_glitchtip_zero_division.json")
    value = event["exception"]["values"][0]
    frames = value.pop("stacktrace")["frames"]
    event["threads"] = {"values": [{"id": 1, "current": False}, {"id": 2, "crashed": True, "stacktrace": {"frames": frames}}]}

    trace = parse_sentry_event(event)
    assert trace.main is not None and len(trace.main.frames) == len(frames)


def test_message_events_with_a_stacktrace_become_one_frameful_error() -> None:
    event = {
        "platform": "python",
        "logentry": {"formatted": "disk almost full"},
        "stacktrace": {"frames": [{"filename": "app/jobs.py", "lineno": 9, "function": "sweep"}]},
    }
    trace = parse_sentry_event(event)
    assert trace.main is not None and trace.main.value == "disk almost full"
    assert trace.frames[0].in_app and trace.frames[0].line == 9


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"exception": None},
        {"exception": {"values": None}},
        {"exception": {"values": ["not an object", 3]}},
        {"exception": {"values": [{"type": "E", "stacktrace": {"frames": "nope"}}]}},
        {"exception": [{"type": "E", "value": 5, "stacktrace": {"frames": [None, {"lineno": "x", "colno": -2}]}}]},
    ],
)
def test_malformed_payloads_never_raise(event: dict[str, Any]) -> None:
    trace = parse_sentry_event(event)
    for exception in trace.exceptions:
        for frame in exception.frames:
            assert frame.line is None or frame.line > 0


def test_sdk_in_app_false_is_respected_and_rules_apply_when_unset() -> None:
    rules = InAppRules(source_roots=("src",))
    assert not frame_from_sentry({"abs_path": "/var/task/src/a.ts", "in_app": False}, rules=rules).in_app
    assert frame_from_sentry({"abs_path": "/var/task/src/a.ts"}, rules=rules).in_app
    assert not frame_from_sentry({"abs_path": "/var/task/scripts/a.ts"}, rules=rules).in_app
    assert not frame_from_sentry({"abs_path": "/var/task/node_modules/x/a.js", "in_app": True}, rules=rules).in_app
