"""JavaScript traces from real Node runs (V8), and Firefox/Safari stack text, parsed into frames."""

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
    parse_gecko_stack,
    parse_trace,
    parse_v8_stack,
)

WriteTree = Callable[[Path, dict[str, str]], list[str]]
RunNode = Callable[..., str]

ROUTE = textwrap.dedent(
    """\
    const practices = [{ id: "1", name: "Harley Street" }];

    function findPractice(id) {
      return practices.find((p) => p.id === id) ?? null;
    }

    async function GET(id) {
      await null;
      const practice = findPractice(id);
      return practice.name;
    }

    module.exports = { GET };
    """
)


def test_node_uncaught_error_output_gives_frames_innermost_last(tmp_path: Path, write_tree: WriteTree, run_node: RunNode) -> None:
    files = write_tree(
        tmp_path,
        {
            "src/app/api/practices/route.js": ROUTE,
            "src/server.js": 'const { GET } = require("./app/api/practices/route");\n\nasync function main() {\n'
            '  await GET("42");\n}\n\nmain();\n',
        },
    )
    text = run_node(tmp_path, "src/server.js")

    trace = parse_trace(text)

    assert trace.language is TraceLanguage.JAVASCRIPT
    main = trace.main
    assert main is not None
    assert (main.type, main.value) == ("TypeError", "Cannot read properties of null (reading 'name')")
    assert [(f.function, f.line, f.column) for f in main.frames] == [("main", 4, 3), ("GET", 10, 19)]
    assert main.frames[-1].file == str(tmp_path / "src/app/api/practices/route.js")
    culprit = find_culprit(trace, RepoPathResolver(files, {str(tmp_path) + "/": ""}))
    assert culprit is not None and (culprit.repo_path, culprit.line) == ("src/app/api/practices/route.js", 10)


def test_error_cause_chain_from_node_is_oldest_first(tmp_path: Path, write_tree: WriteTree, run_node: RunNode) -> None:
    write_tree(
        tmp_path,
        {
            "cause.js": textwrap.dedent(
                """\
                function read() {
                  return JSON.parse("{broken");
                }
                function load() {
                  try {
                    return read();
                  } catch (err) {
                    throw new Error("config unreadable", { cause: err });
                  }
                }
                load();
                """
            )
        },
    )
    trace = parse_v8_stack(run_node(tmp_path, "cause.js"))

    assert [e.type for e in trace.exceptions] == ["SyntaxError", "Error"]
    cause, raised = trace.exceptions
    assert cause.relation is ChainRelation.CAUSE and cause.parent_id == raised.exception_id == 0
    assert trace.main is raised and raised.value == "config unreadable"
    assert cause.frames[-2].function == "read" and cause.frames[-2].line == 2
    assert cause.frames[-1].function == "JSON.parse" and not cause.frames[-1].in_app
    # node's "... N lines matching cause stack trace ..." line is not a frame
    assert all("matching" not in f.file for f in raised.frames)
    culprit = find_culprit(trace)
    assert culprit is not None and culprit.exception is cause and culprit.frame.function == "read"


def test_aggregate_error_members_are_group_members(tmp_path: Path, write_tree: WriteTree, run_node: RunNode) -> None:
    write_tree(
        tmp_path,
        {"agg.js": 'throw new AggregateError([new RangeError("too big"), new TypeError("not a number")], "2 checks failed");\n'},
    )
    trace = parse_v8_stack(run_node(tmp_path, "agg.js"))

    got = [(e.type, e.value, e.relation, e.is_group) for e in trace.exceptions]
    assert got == [
        ("TypeError", "not a number", ChainRelation.GROUP_MEMBER, False),
        ("RangeError", "too big", ChainRelation.GROUP_MEMBER, False),
        ("AggregateError", "2 checks failed", None, True),
    ]
    assert trace.main is not None and trace.main.type == "AggregateError"


def test_constructor_eval_and_internal_frames(tmp_path: Path, write_tree: WriteTree, run_node: RunNode) -> None:
    write_tree(
        tmp_path,
        {"ev.js": 'class Report {\n  constructor() {\n    eval("missingFn()");\n  }\n}\nnew Report();\n'},
    )
    main = parse_v8_stack(run_node(tmp_path, "ev.js")).main

    assert main is not None and (main.type, main.value) == ("ReferenceError", "missingFn is not defined")
    innermost, constructor = main.frames[-1], main.frames[-2]
    # the eval frame points at the eval call site in ev.js
    assert (innermost.function, innermost.file, innermost.line) == ("eval", str(tmp_path / "ev.js"), 3)
    assert constructor.function == "new Report" and constructor.line == 3
    internal = [f for f in main.frames if f.file.startswith("node:internal")]
    assert internal and not any(f.in_app for f in internal)


def test_esm_file_urls_and_error_properties_block(tmp_path: Path, write_tree: WriteTree, run_node: RunNode) -> None:
    files = write_tree(
        tmp_path,
        {
            "lib/pay.mjs": 'export function pay() {\n  const e = new Error("card declined");\n  e.code = "E_CARD";\n'
            "  throw e;\n}\n",
            "main.mjs": 'import { pay } from "./lib/pay.mjs";\npay();\n',
        },
    )
    trace = parse_trace(run_node(tmp_path, "main.mjs"))

    main = trace.main
    assert main is not None and (main.type, main.value) == ("Error", "card declined")
    assert main.frames[-1].file == (tmp_path / "lib/pay.mjs").as_uri()
    culprit = find_culprit(trace, RepoPathResolver(files, {str(tmp_path) + "/": ""}))
    assert culprit is not None and (culprit.repo_path, culprit.line) == ("lib/pay.mjs", 2)


def test_v8_stack_text_variants_without_node_output_around_them() -> None:
    text = (
        'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string\n'
        "    at new NodeError (node:internal/errors:405:5)\n"
        "    at Object.handler [as GET] (webpack-internal:///(rsc)/./src/app/api/practices/[id]/route.ts:12:23)\n"
        "    at async Promise.all (index 0)\n"
        "    at Array.map (<anonymous>)\n"
        "    at C:\\app\\server.js:7:3\n"
        "    at /var/task/node_modules/next/dist/server/base-server.js:1:2\n"
    )
    main = parse_v8_stack(text).main

    assert main is not None and main.type == "TypeError" and main.value.startswith('The "path" argument')
    frames = list(reversed(main.frames))  # back to V8's printed order for readability
    assert (frames[0].function, frames[0].file, frames[0].in_app) == ("new NodeError", "node:internal/errors", False)
    assert (frames[1].function, frames[1].line, frames[1].column) == ("Object.handler", 12, 23)
    assert frames[1].in_app
    assert (frames[2].function, frames[2].file, frames[2].in_app) == ("Promise.all", "<anonymous>", False)
    assert (frames[3].function, frames[3].file) == ("Array.map", "<anonymous>")
    assert (frames[4].file, frames[4].line, frames[4].column) == ("C:\\app\\server.js", 7, 3)
    assert not frames[5].in_app


def test_prose_that_starts_with_at_is_not_a_frame() -> None:
    text = "Error: validation failed\n    at least one item is required\n    at foo (/app/x.js:1:2)\n"
    main = parse_v8_stack(text).main
    assert main is not None and len(main.frames) == 1 and main.frames[0].function == "foo"


def test_firefox_stack_with_async_and_eval_markers() -> None:
    text = (
        "aha@file:///private/tmp/test.html:18:13\n"
        "callAnotherThing/<@file:///private/tmp/test.html:19:16\n"
        "async*callback@http://localhost:3000/_next/static/chunks/app/page.js:24:7\n"
        "@http://localhost:3000/app.js line 2 > eval:1:5\n"
    )
    assert detect_language(text) is TraceLanguage.JAVASCRIPT
    trace = parse_gecko_stack(text, error_type="Error", error_value="bad")
    main = trace.main
    assert main is not None and (main.type, main.value) == ("Error", "bad")
    got = [(f.function, f.file, f.line, f.column) for f in reversed(main.frames)]
    assert got == [
        ("aha", "file:///private/tmp/test.html", 18, 13),
        ("callAnotherThing/<", "file:///private/tmp/test.html", 19, 16),
        ("callback", "http://localhost:3000/_next/static/chunks/app/page.js", 24, 7),
        (None, "http://localhost:3000/app.js", 2, None),
    ]


def test_safari_stack_with_native_code_and_global_code() -> None:
    text = "aha@file:///tmp/test.html:18:22\nforEach@[native code]\nglobal code@file:///tmp/test.html:30:5\n"
    trace = parse_trace(text, error_type="TypeError", error_value="undefined is not an object")
    main = trace.main
    assert main is not None and main.type == "TypeError"
    assert [(f.function, f.file) for f in reversed(main.frames)] == [
        ("aha", "file:///tmp/test.html"),
        ("forEach", "[native code]"),
        (None, "file:///tmp/test.html"),
    ]
    assert not main.frames[1].in_app


def test_frameless_error_record_keeps_its_type_and_message() -> None:
    trace = parse_trace("Error: Loading chunk 158 failed.", error_type="ChunkLoadError", error_value="Loading chunk 158 failed.")
    assert trace.main is not None and trace.main.type == "ChunkLoadError" and trace.main.frames == ()


def test_node_eval_traces_have_pseudo_files_that_are_not_in_app(run_node: RunNode, tmp_path: Path) -> None:
    text = run_node(tmp_path, "-e", "function boom() { return undefined.id }\nboom()")
    main = parse_trace(text).main
    assert main is not None and main.type == "TypeError" and "reading 'id'" in main.value
    innermost = main.frames[-1]
    assert (innermost.function, innermost.file, innermost.line) == ("boom", "[eval]", 1)
    assert not innermost.in_app
    assert find_culprit(parse_trace(text)) is None  # nothing in the repository to point at
