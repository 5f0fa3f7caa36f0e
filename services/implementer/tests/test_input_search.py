"""The input search's pure parts: candidates from declared types and the production message, and the strict match."""

from __future__ import annotations

from medic_implementer.domain.input_search import (
    MAX_CANDIDATES,
    SearchTry,
    matching_try,
    message_literals,
    production_message,
    python_candidates,
)
from medic_implementer.domain.ts_inputs import typescript_candidates


def test_the_message_names_the_values_production_saw() -> None:
    assert message_literals("'GBP'") == (["GBP"], [])
    assert message_literals('unknown plan "gold" for 3 seats') == (["gold"], [3.0])
    assert production_message("KeyError: 'GBP'") == "'GBP'"
    assert production_message("no colon here") is None


def test_python_candidates_follow_the_annotations_and_leave_defaults_first() -> None:
    source = "def f(code: str, rows: list[dict], limit: int = 10, note: str | None = None) -> str:\n    return ''\n"
    found = python_candidates(source, "f", "KeyError: 'GBP'")
    assert found is not None and found[0] == {"code": "''", "rows": "[]"}  # defaults left to themselves first
    codes = {c["code"] for c in found}
    assert {"''", "'GBP'", "'medic-unknown'"} <= codes
    assert {c["rows"] for c in found} == {"[]", "[None]", "[{}]"}
    assert any(c.get("note") == "None" for c in found) and len(found) <= MAX_CANDIDATES


def test_python_candidates_refuse_what_cannot_be_called_by_keyword() -> None:
    assert python_candidates("def f(*args):\n    pass\n", "f", "") is None
    assert python_candidates("def f(a, /):\n    pass\n", "f", "") is None
    assert python_candidates("class A:\n    def f(self):\n        pass\n", "f", "") is None  # not module-level


def test_typescript_candidates_resolve_aliases_and_unions() -> None:
    module = "export type Rows = Row[];\ninterface Row { id: string }\n"
    found = typescript_candidates([("rows", "Rows"), ("mode", '"csv" | "tsv" | null')], module, "")
    assert {str(c[0]) for c in found} == {"[]", "[{'id': 'medic-unknown'}]", "[None]", "[{}]"}  # a row: its required members
    assert {c[1] for c in found} == {"csv", "tsv", None}
    assert typescript_candidates([("n", "number")], "", "bad 42")[0] == [0]
    assert [42] in typescript_candidates([("n", "number")], "", "bad 42")


def tried(index: int, raised: str | None, message: str, *frames: tuple[str, str]) -> SearchTry:
    return SearchTry(index, raised, message, tuple(frames))


def test_only_a_try_failing_exactly_as_production_matches() -> None:
    where = ("/repo/src/units.ts", "unitName")
    tries = [
        tried(0, None, ""),
        tried(1, "TypeError", "Cannot read properties of undefined (reading 'short')", where),  # another property
        tried(2, "RangeError", "Cannot read properties of undefined (reading 'name')", where),  # another type
        tried(3, "TypeError", "Cannot read properties of undefined (reading 'name')", ("/repo/src/other.ts", "unitName")),
        tried(4, "TypeError", "Cannot read properties of undefined (reading 'name')", where, ("/repo/src/units.ts", "lookup")),
        tried(5, "TypeError", "Cannot read properties of undefined (reading 'name')", where),
    ]
    found = matching_try(
        tries,
        exception_type="TypeError",
        message="Cannot read properties of undefined (reading 'name')",
        affected_file="src/units.ts",
        function="unitName",
    )
    assert found is not None and found.index == 5


def test_a_generator_expression_frame_counts_as_its_function() -> None:
    frames = (("/repo/shipping/parcels.py", "parcel_weight"), ("/repo/shipping/parcels.py", "<genexpr>"))
    found = matching_try(
        [tried(0, "KeyError", "'grams'", *frames)],
        exception_type="KeyError",
        message="'grams'",
        affected_file="shipping/parcels.py",
        function="parcel_weight",
    )
    assert found is not None


def test_the_errors_a_function_documents_are_read_from_its_own_doc() -> None:
    from medic_implementer.domain.reproduction import documented_errors

    ts = (
        "/** Grams in an amount. Throws UnknownUnitError for a unit the table does not know. */\n"
        "export function toGrams(amount: number, unit: string): number {\n  return amount;\n}\n"
        "/** Other docs name OtherError. */\nexport function other(): void {}\n"
    )
    assert documented_errors(ts, "src/units.ts", "toGrams") == {"UnknownUnitError"}
    assert documented_errors(ts, "src/units.ts", "other") == {"OtherError"}
    arrow = "/** Throws RangeError when negative. */\nexport const clamp = (n: number): number => n;\n"
    assert documented_errors(arrow, "src/clamp.ts", "clamp") == {"RangeError"}
    py = 'def load(key: str) -> str:\n    """The value. Raises KeyError when absent."""\n    return key\n'
    assert documented_errors(py, "app/store.py", "load") == {"KeyError"}
    assert documented_errors("def f():\n    return 1\n", "app/f.py", "f") == frozenset()


def test_a_documented_error_is_a_handled_outcome_but_production_s_own_error_is_not() -> None:
    from medic_implementer.domain.reproduction import Observation, expected_outcome, judge_fixed

    raised = Observation(raised="UnknownUnitError", frames=())
    assert judge_fixed(raised, documented=frozenset({"UnknownUnitError"}), production="TypeError") is None
    assert expected_outcome(raised) == {"raised": "UnknownUnitError"}
    assert judge_fixed(raised) == "the fixed code still raises UnknownUnitError"  # not documented
    same = Observation(raised="TypeError", frames=())
    assert judge_fixed(same, documented=frozenset({"TypeError"}), production="TypeError") is not None
