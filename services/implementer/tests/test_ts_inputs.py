"""TypeScript search inputs: objects from declared types (required members only), dates, imported types, and the
project's own test calls replayed with optional members left out."""

from __future__ import annotations

from medic_implementer.domain.input_search import SearchTry, matching_try
from medic_implementer.domain.ts_inputs import imported_modules, typescript_candidates
from medic_implementer.domain.ts_literals import calls_in_tests

MODULE = """
export interface Change { title: string; pr: number; author?: string; mergedAt?: string; at: Date }
export function notes(version: string, changes: Change[], on: Date): string { return ""; }
"""

TESTS = """
import { notes } from "../src/notes";
const carried = { title: "Dark mode", pr: 77, at: new Date(Date.UTC(2026, 2, 1, 9, 30)) };
const base = { title: "Search", pr: 412, mergedAt: "2026-03-02T10:00:00Z" };
test("listed", () => {
  assert.equal(notes("2.4.0", [{ ...base, author: "mina", at: new Date("2026-03-02") }, carried], new Date(2026, 2, 4)), "x");
  notes(version, [], new Date());          // a variable: not replayable
  notes("1.0", [{ title, pr: 1 }], new Date());  // a shorthand of an unknown name: not replayable
  lib.notes("0.1", [], new Date(0));
});
"""


def test_test_calls_are_read_as_plain_values_with_dates_consts_and_spreads() -> None:
    calls = calls_in_tests([("tests/notes.test.ts", TESTS)], "notes")
    assert calls == [
        [
            "2.4.0",
            [
                {
                    "title": "Search",
                    "pr": 412,
                    "mergedAt": "2026-03-02T10:00:00Z",
                    "author": "mina",
                    "at": {"$date": "2026-03-02"},
                },
                {"title": "Dark mode", "pr": 77, "at": {"$date": "2026-03-01T09:30:00.000Z"}},
            ],
            {"$date": "2026-03-04T00:00:00.000"},  # new Date(y, m, d) is local time: ISO without an offset
        ],
        ["0.1", [], {"$date": "1970-01-01T00:00:00Z"}],
    ]


def test_a_test_call_is_tried_first_with_its_optional_members_left_out() -> None:
    calls = calls_in_tests([("tests/notes.test.ts", TESTS)], "notes")
    params = [("version", "string"), ("changes", "Change[]"), ("on", "Date")]
    found = typescript_candidates(params, MODULE, "Invalid time value", path="src/notes.ts", test_calls=calls)
    first = found[0][1][0]
    assert first == {"title": "Search", "pr": 412, "at": {"$date": "2026-03-02"}}  # required members, real values
    one_left_out = [c[1][0] for c in found[1:6] if len(c[1]) == 2]
    assert {"title": "Search", "pr": 412, "author": "mina", "at": {"$date": "2026-03-02"}} in one_left_out
    # then the typed values: an object with its required members only, and a date
    assert ["", [{"title": "medic-unknown", "pr": 1, "at": {"$date": "2026-01-01T00:00:00.000Z"}}], found[-1][2]] in found
    assert ["0.1", [], {"$date": "1970-01-01T00:00:00Z"}] in found  # a call with fewer arguments is kept as it is


def test_types_imported_from_a_sibling_module_describe_the_parameter() -> None:
    module = 'import type { Shift } from "./types";\nexport function roster(shifts: Shift[]) {}\n'
    assert imported_modules(module, "src/roster.ts")[0][0] == "src/types.ts"
    declarations = "export interface Shift { person: string; endsAt?: string }"
    found = typescript_candidates([("shifts", "Shift[]")], module, "", path="src/roster.ts", declarations=declarations)
    assert [[{"person": "medic-unknown"}]] in found
    assert imported_modules('import x from "../../outside";', "src/a.ts") == []  # outside the repository


def test_an_inline_object_type_and_nested_required_members() -> None:
    found = typescript_candidates([("o", "{ a: string; b?: Date; c: { d: number | null; e: Date } }")], "", "")
    assert found[0] == [{"a": "medic-unknown", "c": {"d": 1, "e": {"$date": "2026-01-01T00:00:00.000Z"}}}]


def test_a_try_failing_the_same_way_on_another_line_is_not_a_reproduction() -> None:
    at = ("/repo/src/roster.ts", "rosterText")
    earlier = SearchTry(0, "RangeError", "Invalid time value", (at,), (12,))
    same_line = SearchTry(1, "RangeError", "Invalid time value", (at,), (14,))
    kwargs = {"exception_type": "RangeError", "message": "Invalid time value", "affected_file": "src/roster.ts"}
    assert matching_try([earlier, same_line], function="rosterText", line=14, **kwargs) is same_line
    assert matching_try([earlier], function="rosterText", line=14, **kwargs) is None
    assert matching_try([earlier], function="rosterText", line=None, **kwargs) is earlier  # production's line unknown
