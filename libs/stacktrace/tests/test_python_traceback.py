"""Python tracebacks produced by actually running failing programs, parsed back into frames."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from medic_stacktrace import (
    ChainRelation,
    RepoPathResolver,
    TraceLanguage,
    detect_language,
    find_culprit,
    parse_python_traceback,
    parse_trace,
)

WriteTree = Callable[[Path, dict[str, str]], list[str]]
RunPython = Callable[[Path, str], str]

APP = {
    "shop/__init__.py": "",
    "shop/db.py": textwrap.dedent(
        """\
        PRACTICES = {"1": {"name": "Harley Street"}}


        def find_practice(practice_id):
            return PRACTICES.get(practice_id)
        """
    ),
    "shop/views.py": textwrap.dedent(
        """\
        from shop.db import find_practice


        def practice_name(practice_id):
            practice = find_practice(practice_id)
            return practice["name"].upper()
        """
    ),
    "shop/main.py": textwrap.dedent(
        """\
        from shop.views import practice_name

        print(practice_name("42"))
        """
    ),
}


def test_real_traceback_gives_frames_innermost_last_with_source_lines(
    tmp_path: Path, write_tree: WriteTree, run_python: RunPython
) -> None:
    files = write_tree(tmp_path, APP)
    text = run_python(tmp_path, "shop.main")

    trace = parse_trace(text)

    assert trace.language is TraceLanguage.PYTHON
    main = trace.main
    assert main is not None
    assert (main.type, main.value) == ("TypeError", "'NoneType' object is not subscriptable")
    innermost = trace.frames[-1]
    assert innermost.file == str(tmp_path / "shop/views.py")
    assert (innermost.line, innermost.function) == (6, "practice_name")
    assert innermost.context_line == 'return practice["name"].upper()'
    assert innermost.in_app
    culprit = find_culprit(trace, RepoPathResolver(files, {str(tmp_path) + "/": ""}))
    assert culprit is not None
    assert (culprit.repo_path, culprit.line) == ("shop/views.py", 6)


def test_raise_from_keeps_the_cause_first_and_links_it_to_the_raised_exception(
    tmp_path: Path, write_tree: WriteTree, run_python: RunPython
) -> None:
    write_tree(
        tmp_path,
        {
            "chain.py": textwrap.dedent(
                """\
                class PracticeMissing(Exception):
                    pass


                def load(data):
                    try:
                        return data["practice"]
                    except KeyError as exc:
                        raise PracticeMissing("no practice in payload") from exc


                load({})
                """
            )
        },
    )
    trace = parse_python_traceback(run_python(tmp_path, "chain"))

    assert [e.type for e in trace.exceptions] == ["KeyError", "PracticeMissing"]
    cause, raised = trace.exceptions
    assert (raised.exception_id, raised.parent_id, raised.relation) == (0, None, None)
    assert (cause.parent_id, cause.relation) == (0, ChainRelation.CAUSE)
    # CPython does not qualify __main__ names
    assert raised.module is None and raised.value == "no practice in payload"
    assert trace.main is raised and trace.root_cause is cause
    info = trace.exception_info()
    assert info is not None and info.type == "PracticeMissing" and info.chained == ("KeyError",)
    # an explicit cause is where the failure began: the culprit is the KeyError line
    culprit = find_culprit(trace)
    assert culprit is not None and culprit.exception is cause and culprit.line == 7


def test_during_handling_chain_is_a_context_and_the_culprit_stays_on_the_raised_exception(
    tmp_path: Path, write_tree: WriteTree, run_python: RunPython
) -> None:
    write_tree(
        tmp_path,
        {
            "ctx.py": textwrap.dedent(
                """\
                def price(cart):
                    try:
                        return cart["total"] / cart["items"]
                    except KeyError:
                        return cart["total"] / 0


                price({"total": 3})
                """
            )
        },
    )
    trace = parse_python_traceback(run_python(tmp_path, "ctx"))

    assert [e.type for e in trace.exceptions] == ["KeyError", "ZeroDivisionError"]
    assert trace.exceptions[0].relation is ChainRelation.CONTEXT
    culprit = find_culprit(trace)
    assert culprit is not None and culprit.exception.type == "ZeroDivisionError" and culprit.line == 5


EXCEPTION_GROUP = textwrap.dedent(
    """\
    def fail(exc):
        raise exc


    def collect(errors):
        caught = []
        for exc in errors:
            try:
                fail(exc)
            except Exception as e:
                caught.append(e)
        return caught


    inner = ExceptionGroup("imports", collect([ImportError("no_such_module"), ModuleNotFoundError("another")]))
    try:
        raise RuntimeError("while starting")
    except RuntimeError:
        raise ExceptionGroup("nested", [*collect([ValueError(654)]), inner, TypeError("int")])
    """
)


def test_exception_group_members_are_numbered_like_sentry_python(
    tmp_path: Path, write_tree: WriteTree, run_python: RunPython
) -> None:
    write_tree(tmp_path, {"group.py": EXCEPTION_GROUP})
    trace = parse_python_traceback(run_python(tmp_path, "group"))

    got = [(e.type, e.value, e.exception_id, e.parent_id, e.relation, e.is_group) for e in trace.exceptions]
    member = ChainRelation.GROUP_MEMBER
    assert got == [
        ("TypeError", "int", 6, 0, member, False),
        ("ModuleNotFoundError", "another", 5, 3, member, False),
        ("ImportError", "no_such_module", 4, 3, member, False),
        ("ExceptionGroup", "imports", 3, 0, member, True),
        ("ValueError", "654", 2, 0, member, False),
        ("RuntimeError", "while starting", 1, 0, ChainRelation.CONTEXT, False),
        ("ExceptionGroup", "nested", 0, None, None, True),
    ]
    # members differ, so Sentry titles the issue with the group itself
    assert trace.main is not None and trace.main.value == "nested"
    value_error = trace.exceptions[4]
    assert [f.function for f in value_error.frames] == ["collect", "fail"]
    assert value_error.frames[-1].line == 2
    assert trace.main.frames[-1].line == 19


def test_exception_group_of_one_kind_of_error_is_titled_by_that_error(
    tmp_path: Path, write_tree: WriteTree, run_python: RunPython
) -> None:
    write_tree(
        tmp_path,
        {
            "same.py": textwrap.dedent(
                """\
                errors = []
                for n in range(3):
                    try:
                        {}["missing"]
                    except KeyError as exc:
                        errors.append(exc)
                raise ExceptionGroup("batch failed", errors)
                """
            )
        },
    )
    trace = parse_python_traceback(run_python(tmp_path, "same"))

    assert trace.main is not None
    assert (trace.main.type, trace.main.value) == ("KeyError", "'missing'")
    assert trace.main.frames[-1].line == 4


def test_syntax_error_location_is_the_innermost_frame(tmp_path: Path, write_tree: WriteTree, run_python: RunPython) -> None:
    write_tree(tmp_path, {"broken.py": "def handler(:\n    pass\n", "entry.py": "import broken\n"})
    trace = parse_python_traceback(run_python(tmp_path, "entry"))

    main = trace.main
    assert main is not None and main.type == "SyntaxError"
    assert main.frames[-1].file.endswith("broken.py")
    assert main.frames[-1].line == 1 and main.frames[-1].function is None
    assert main.frames[-1].context_line == "def handler(:"


def test_recursion_error_skips_repeated_line_markers(tmp_path: Path, write_tree: WriteTree, run_python: RunPython) -> None:
    write_tree(tmp_path, {"deep.py": "def down(n):\n    return down(n + 1)\n\n\ndown(0)\n"})
    trace = parse_python_traceback(run_python(tmp_path, "deep"))

    main = trace.main
    assert main is not None and main.type == "RecursionError"
    assert {f.function for f in main.frames} <= {"<module>", "down", "_run_module_as_main", "_run_code"}
    assert all(f.line is not None for f in main.frames)


def test_standard_library_frames_are_not_in_app_and_not_the_culprit(
    tmp_path: Path, write_tree: WriteTree, run_python: RunPython
) -> None:
    files = write_tree(tmp_path, {"svc/__init__.py": "", "svc/parse.py": "import json\n\njson.loads('{not json')\n"})
    trace = parse_trace(run_python(tmp_path, "svc.parse"))

    main = trace.main
    assert main is not None and main.type == "JSONDecodeError" and main.module == "json.decoder"
    assert not main.frames[-1].in_app and "json" in main.frames[-1].file
    culprit = find_culprit(trace, RepoPathResolver(files, {str(tmp_path) + "/": ""}))
    assert culprit is not None and (culprit.repo_path, culprit.line) == ("svc/parse.py", 3)


def test_log_prefixes_colours_and_trailing_records_do_not_confuse_the_parser() -> None:
    text = (
        "2024-05-01 12:00:00 ERROR app: request failed\n"
        "2024-05-01 12:00:00 ERROR Traceback (most recent call last):\n"
        '  File "/var/task/app/api.py", line 12, in handler\n'
        "    return practice.name\n"
        "           ^^^^^^^^^^^^^\n"
        "\x1b[35mAttributeError\x1b[0m: 'NoneType' object has no attribute 'name'\n"
        "\n"
        "2024-05-01 12:00:01 INFO app: next request\n"
    )
    trace = parse_trace(text)

    main = trace.main
    assert main is not None
    assert (main.type, main.value) == ("AttributeError", "'NoneType' object has no attribute 'name'")
    assert [(f.file, f.line, f.context_line) for f in main.frames] == [("/var/task/app/api.py", 12, "return practice.name")]


def test_multiline_message_and_qualified_type_are_kept() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/app/billing/charge.py", line 3, in charge\n'
        "    raise billing.errors.CardDeclined(msg)\n"
        "billing.errors.CardDeclined: card declined\n"
        "reason: insufficient funds\n"
    )
    main = parse_trace(text).main
    assert main is not None
    assert (main.module, main.type, main.value) == ("billing.errors", "CardDeclined", "card declined\nreason: insufficient funds")
    assert main.qualified_type == "billing.errors.CardDeclined"


def test_text_without_a_traceback_gives_an_empty_trace() -> None:
    for text in ("", "all good\nnothing failed", "Error: not python either"):
        trace = parse_python_traceback(text)
        assert not trace.found and trace.main is None and trace.frames == () and trace.exception_info() is None


def test_python_text_is_detected_as_python() -> None:
    assert detect_language('Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nValueError') is (
        TraceLanguage.PYTHON
    )
