"""The playbook on real Python failures: real git history, real tracebacks, deployed paths."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from medic_contracts import FixStrategy, StackFrame
from medic_investigator.adapters.providers import PlaybookProvider
from medic_investigator.job.diagnose import diagnose_issue
from medic_stacktrace import parse_trace

from .helpers import BASE_DATE, issue_from_trace, make_repo, run_python, target_for

DB = {
    "app/__init__.py": "",
    "app/db.py": """
        PRACTICES = {"1": {"id": "1", "name": "Harbour Dental"}}


        class Practice:
            def __init__(self, id: str, name: str) -> None:
                self.id = id
                self.name = name


        def get_practice(practice_id: str) -> "Practice | None":
            row = PRACTICES.get(practice_id)
            if row is None:
                return None
            return Practice(row["id"], row["name"])
    """,
}

ROUTES_GOOD = """
    from app.db import get_practice


    def practice_detail(practice_id: str) -> dict[str, str]:
        practice = get_practice(practice_id)
        if practice is None:
            return {"status": "404", "error": "Practice not found"}
        return {"id": practice.id, "name": practice.name}


    def stats(values: list[int]) -> dict[str, float]:
        total = sum(values)
        count = len(values)
        return {"mean": total / count}


    def plan_of(payload: dict[str, str]) -> str:
        return payload["plan"]


    def first_item(items: list[str]) -> str:
        return items[0]


    def labels(tags: list[str] | None) -> list[str]:
        return [t.upper() for t in tags]
"""

ROUTES_BUGGY = """
    from app.db import get_practice


    def practice_detail(practice_id: str) -> dict[str, str]:
        practice = get_practice(practice_id)
        return {"id": practice.id, "name": practice.name}


    def stats(values: list[int]) -> dict[str, float]:
        total = sum(values)
        count = len(values)
        return {"mean": total / count}


    def plan_of(payload: dict[str, str]) -> str:
        return payload["plan"]


    def first_item(items: list[str]) -> str:
        return items[0]


    def labels(tags: list[str] | None) -> list[str]:
        return [t.upper() for t in tags]
"""


def _repo(tmp_path: Path) -> tuple[Path, str | None]:
    return make_repo(
        tmp_path,
        {**DB, "app/routes.py": ROUTES_GOOD},
        bug={"app/routes.py": ROUTES_BUGGY},
        bug_message="Load practice details in one query",
    )


async def test_none_attribute_after_lookup_is_a_null_guard_with_the_lookup_as_origin(tmp_path: Path) -> None:
    repo, bug_sha = _repo(tmp_path)
    trace = run_python(repo, "from app.routes import practice_detail; practice_detail('404')", deployed_prefix="/var/task/")
    assert 'File "/var/task/app/routes.py"' in trace  # a deployed path, as production reports it
    issue = issue_from_trace(trace)

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "app/routes.py"
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == 6 == diagnosis.affected_lines.last
    assert diagnosis.affected_function == "practice_detail"
    assert diagnosis.fix_strategy == FixStrategy.REVERT_COMMIT  # the bad commit deleted the None check: revert restores it
    assert diagnosis.suspect_commit is not None and diagnosis.suspect_commit.sha == bug_sha
    assert diagnosis.suspect_commit.landed_before_first_seen
    assert "practice" in diagnosis.root_cause and "get_practice" in diagnosis.root_cause
    assert diagnosis.confidence >= 0.8 and not diagnosis.needs_human
    assert diagnosis.issue_id == issue.issue_id and diagnosis.causation_id == issue.event_id
    kinds = {e.kind for e in diagnosis.evidence}
    assert {"stack_frame", "git_blame", "code"} <= kinds


async def test_null_access_without_a_removed_check_gets_a_null_guard_naming_the_404_exit(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {**DB, "app/routes.py": ROUTES_BUGGY})
    trace = run_python(repo, "from app.routes import practice_detail; practice_detail('404')")
    issue = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=60))

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.fix_strategy == FixStrategy.NULL_GUARD
    assert diagnosis.fix_hint is not None and "expression: practice" in diagnosis.fix_hint
    assert "get_practice" in diagnosis.root_cause  # the callee returns None: found by reading it
    assert diagnosis.suspect_commit is not None and not diagnosis.suspect_commit.landed_before_first_seen
    assert any(e.source and e.source.startswith("app/db.py:") for e in diagnosis.evidence)


async def test_each_python_error_class_gets_its_guard_and_the_failing_line(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {**DB, "app/routes.py": ROUTES_BUGGY})
    cases = [
        ("from app.routes import stats; stats([])", FixStrategy.ZERO_GUARD, 12, "count"),
        ("from app.routes import plan_of; plan_of({})", FixStrategy.MISSING_KEY_GUARD, 16, "plan"),
        ("from app.routes import first_item; first_item([])", FixStrategy.BOUNDS_GUARD, 20, "items"),
        ("from app.routes import labels; labels(None)", FixStrategy.EMPTY_ITERABLE_GUARD, 24, "tags"),
    ]
    for code, strategy, line, word in cases:
        issue = issue_from_trace(run_python(repo, code), first_seen=BASE_DATE + timedelta(days=60))
        diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())
        assert diagnosis.fix_strategy == strategy, (code, diagnosis.root_cause)
        assert diagnosis.affected_file == "app/routes.py"
        assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == line, code
        assert word in diagnosis.root_cause, diagnosis.root_cause
        assert diagnosis.provider == "playbook" and diagnosis.cost_usd == 0


async def test_an_error_the_rules_do_not_explain_goes_to_a_human(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {"svc.py": "def boot() -> None:\n    raise RuntimeError('disk full on /var/data')\n"})
    issue = issue_from_trace(run_python(repo, "import svc; svc.boot()"), first_seen=BASE_DATE + timedelta(days=60))

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.needs_human and diagnosis.fix_strategy == FixStrategy.NEEDS_HUMAN
    assert diagnosis.affected_file == "svc.py" and diagnosis.fixability < 0.4


async def test_a_frame_outside_the_repository_is_never_the_culprit(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {"svc.py": "import json\n\ndef load(text: str) -> object:\n    return json.loads(text)\n"})
    trace = run_python(repo, "import svc; svc.load('{')")
    issue = issue_from_trace(trace)
    assert "json/decoder.py" in trace  # the innermost frame is the standard library

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "svc.py" and diagnosis.affected_lines is not None
    assert diagnosis.affected_lines.first == 4


async def test_culprit_in_a_protected_path_is_diagnosed_but_sent_to_a_human(tmp_path: Path) -> None:
    billing = "def charge(cents: int, parts: int) -> int:\n    return cents // parts\n"
    repo, _ = make_repo(tmp_path, {"src/app/api/billing/charge.py": billing})
    trace = run_python(repo, "import sys; sys.path.insert(0, 'src/app/api/billing'); import charge; charge.charge(100, 0)")
    issue = issue_from_trace(trace)

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "src/app/api/billing/charge.py"
    assert diagnosis.fix_strategy == FixStrategy.ZERO_GUARD  # the diagnosis still says what is wrong
    assert diagnosis.needs_human and diagnosis.fixability <= 0.2
    assert any(e.kind == "policy" for e in diagnosis.evidence)


async def test_an_issue_with_only_a_chained_raw_traceback_is_parsed_and_localised(tmp_path: Path) -> None:
    code = (
        "def load(payload: dict[str, str]) -> str:\n"
        "    try:\n"
        "        return payload['plan']\n"
        "    except KeyError:\n"
        "        raise ValueError('no plan in payload')\n"
    )
    repo, _ = make_repo(tmp_path, {"svc.py": code})
    trace = run_python(repo, "import svc; svc.load({})", deployed_prefix="/app/")
    assert "During handling of the above exception" in trace
    issue = issue_from_trace(trace, frames=(), first_seen=BASE_DATE + timedelta(days=60))
    assert issue.frames == () and issue.raw_trace

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "svc.py"
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == 5  # the raise of the last exception


async def test_commits_made_in_the_same_second_are_ordered_by_history_not_by_clock(tmp_path: Path) -> None:
    repo, bug_sha = make_repo(
        tmp_path,
        {**DB, "app/routes.py": ROUTES_GOOD},
        bug={"app/routes.py": ROUTES_BUGGY},
        bug_message="Drop the check",
        bug_date=BASE_DATE,
    )
    trace = run_python(repo, "from app.routes import practice_detail; practice_detail('404')")
    issue = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(minutes=1))

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.suspect_commit is not None and diagnosis.suspect_commit.sha == bug_sha
    assert diagnosis.fix_strategy == FixStrategy.REVERT_COMMIT


async def test_a_crash_inside_a_generator_expression_hands_on_the_enclosing_functions_arguments(tmp_path: Path) -> None:
    code = 'def parcel_weight(order: dict) -> int:\n    return sum(item["grams"] * item["qty"] for item in order["items"])\n'
    repo, _ = make_repo(tmp_path, {"svc.py": code})
    trace = run_python(repo, "import svc; svc.parcel_weight({'items': [{'qty': 1}]})")
    frames = tuple(
        f.model_copy(update={"vars": {"order": "{'items': [{'qty': 1}]}"}})
        if f.function == "parcel_weight"
        else f.model_copy(update={"vars": {".0": "<list_iterator object at 0x7f>", "item": "{'qty': 1}"}})
        if f.function == "<genexpr>"
        else f
        for f in parse_trace(trace).frames
    )
    assert [f.function for f in frames][-2:] == ["parcel_weight", "<genexpr>"]
    issue = issue_from_trace(trace, frames=frames)

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    [frame] = [e for e in diagnosis.evidence if e.kind == "frame"]
    called = StackFrame.model_validate_json(frame.detail or "")
    assert called.function == "parcel_weight" and called.vars == {"order": "{'items': [{'qty': 1}]}"}


async def test_the_application_frames_that_called_into_the_crash_are_code_evidence(tmp_path: Path) -> None:
    # A refactor moved parsing into a shared helper: the crash is in the helper, its caller is in the failing path too,
    # and a fix that reverts the refactor touches both files (the implementer's "within the evidence" reads these).
    repo, _ = make_repo(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/timeparse.py": """
                def parse_window(text: str) -> tuple[str, str]:
                    start, end = text.split("-", 1)
                    return start.strip(), end.strip()
                """,
            "app/preferences.py": """
                from app.timeparse import parse_window


                def quiet_window(prefs: dict[str, str | None]) -> tuple[str, str]:
                    return parse_window(prefs.get("quiet_hours"))
                """,
        },
    )
    trace = run_python(repo, "from app.preferences import quiet_window; quiet_window({})", deployed_prefix="/var/task/")
    diagnosis = await diagnose_issue(issue_from_trace(trace), target=target_for(repo), repo=repo, provider=PlaybookProvider())

    frames = [e for e in diagnosis.evidence if e.kind == "stack_frame"]
    assert [f.source for f in frames] == ["/var/task/app/timeparse.py:2", "app/preferences.py:5"]
    assert frames[0].summary.startswith("deepest application frame: app/timeparse.py:2")
    assert frames[1].summary == "calling application frame: app/preferences.py:5 in quiet_window"
    assert (frames[1].detail or "").strip() == 'return parse_window(prefs.get("quiet_hours"))'
