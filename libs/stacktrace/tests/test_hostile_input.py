"""Error text is attacker-controlled: parsers must survive garbage, truncation and regex bait."""

from __future__ import annotations

import random

import pytest

from medic_stacktrace import (
    RepoPathResolver,
    find_culprit,
    parse_gecko_stack,
    parse_python_traceback,
    parse_sentry_event,
    parse_trace,
    parse_v8_stack,
)
from medic_stacktrace.text import MAX_LINE

PYTHON = (
    "Traceback (most recent call last):\n"
    '  File "/var/task/app/api.py", line 12, in handler\n'
    "    return practice.name\n"
    "           ^^^^^^^^^^^^^\n"
    "AttributeError: 'NoneType' object has no attribute 'name'\n"
    "\n"
    "During handling of the above exception, another exception occurred:\n"
    "\n"
    "  + Exception Group Traceback (most recent call last):\n"
    '  |   File "/var/task/app/main.py", line 3, in <module>\n'
    "  | ExceptionGroup: many (2 sub-exceptions)\n"
    "  +-+---------------- 1 ----------------\n"
    "    | ValueError: 1\n"
    "    +---------------- 2 ----------------\n"
    "    | TypeError: 2\n"
    "    +------------------------------------\n"
)
V8 = (
    "TypeError: Cannot read properties of null (reading 'name')\n"
    "    at GET (/var/task/.next/server/app/api/practices/[id]/route.js:1:2345)\n"
    "    at async Promise.all (index 0)\n"
    "    at eval (eval at load (/app/x.js:1:1), <anonymous>:1:1) {\n"
    "  [cause]: Error: inner\n"
    "      at inner (/app/y.js:2:3)\n"
    "}\n"
)

BAIT = [
    ("v8 spaces", "Error: x\n" + ("    at x" + " " * 3000 + "y\n") * 400),
    ("v8 open parens", "Error: x\n" + ("    at " + " (" * 2000 + "\n") * 200),
    ("v8 eval", "Error: x\n" + ("    at eval (eval at " + "a (" * 1500 + "\n") * 200),
    ("gecko spaces", ("a@b" + " " * 3000 + "c\n") * 400),
    ("gecko colons", ("f@x" + ":1" * 2000 + "\n") * 400),
    ("python spaces", "Traceback (most recent call last):\n" + ('  File "x", line 1, in f' + " " * 3000 + "z\n") * 400),
    ("python group", "ValueError: " + " " * 4000 + "(3 sub-exceptions)\n"),
    ("one huge line", "x" * 3_000_000),
    ("many lines", "at\n" * 200_000),
    (
        "long message",
        'Traceback (most recent call last):\n  File "x.py", line 1, in f\nValueError: x\n' + ("z" * 40 + "\n") * 30_000,
    ),
    ("nul and control", 'Traceback (most recent call last):\n\x00\x01\x02  File "\x00", line 1, in \x7f\nE\x00: \x00\n'),
]


@pytest.mark.parametrize(("name", "text"), BAIT, ids=[b[0] for b in BAIT])
def test_regex_bait_is_parsed_without_blowing_up(name: str, text: str) -> None:
    for parse in (parse_trace, parse_python_traceback, parse_v8_stack, parse_gecko_stack):
        trace = parse(text)
        for exception in trace.exceptions:
            assert len(exception.value) <= 8192
            for frame in exception.frames:
                assert len(frame.file) <= MAX_LINE


def test_mutated_real_traces_never_raise() -> None:
    rng = random.Random(20241127)
    sources = [PYTHON, V8, "aha@file:///tmp/test.html:18:13\n@debugger eval code:1:1\n"]
    resolver = RepoPathResolver(["app/api.py", "src/app/api/practices/[id]/route.ts"])
    for _ in range(600):
        lines = rng.choice(sources).split("\n")
        for _ in range(rng.randint(1, 6)):
            if not lines:
                lines = [""]
            op = rng.randrange(5)
            at = rng.randrange(len(lines))
            if op == 0:
                del lines[at]
            elif op == 1:
                lines.insert(at, lines[rng.randrange(len(lines))])
            elif op == 2:
                lines[at] = lines[at][: rng.randrange(len(lines[at]) + 1)]
            elif op == 3:
                lines[at] = lines[at] + rng.choice(["(", ")", ":", "@", "|", "+-+", " at ", '"', "\x1b[31m"])
            else:
                lines.insert(at, "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(40))))
        trace = parse_trace("\n".join(lines))
        culprit = find_culprit(trace, resolver)
        assert culprit is None or culprit.repo_path in resolver.files
        for exception in trace.exceptions:
            assert exception.frames == () or all(f.line is None or f.line > 0 for f in exception.frames)


def test_sentry_payload_with_hostile_values_is_bounded() -> None:
    frames = [{"filename": "a.py", "lineno": 10**12, "vars": {f"v{i}": "x" * 10_000 for i in range(200)}} for _ in range(3)]
    event = {"exception": {"values": [{"type": "E" * 10, "value": None, "stacktrace": {"frames": frames}}]}}
    trace = parse_sentry_event(event)
    frame = trace.frames[0]
    assert len(frame.vars) <= 64 and all(len(v) <= 512 for v in frame.vars.values())
    assert trace.main is not None and trace.main.value == ""
