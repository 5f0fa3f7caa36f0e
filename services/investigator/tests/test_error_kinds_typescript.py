"""V8 messages that name a number-only method on text are a type mismatch, not a missing function."""

from __future__ import annotations

from medic_investigator.domain.error_kinds import classify


def test_a_number_method_on_text_is_a_type_mismatch() -> None:
    failure = classify("TypeError", "nights.toFixed is not a function")
    assert failure.kind == "type_mismatch"
    assert failure.expression == "nights"


def test_another_missing_function_stays_not_callable() -> None:
    assert classify("TypeError", "seats.formatSeat is not a function").kind == "not_callable"


def test_object_keys_of_undefined_is_an_iteration_over_nothing() -> None:
    failure = classify("TypeError", "Cannot convert undefined or null to object")
    assert failure.kind == "none_iteration"
    assert failure.nullish == "undefined"
