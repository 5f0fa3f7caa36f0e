"""V8 messages that name a number-only method on text are a type mismatch, not a missing function."""

from __future__ import annotations

from medic_investigator.domain.error_kinds import classify


def test_a_number_method_on_text_is_a_type_mismatch() -> None:
    failure = classify("TypeError", "nights.toFixed is not a function")
    assert failure.kind == "type_mismatch"
    assert failure.expression == "nights"


def test_another_missing_function_stays_not_callable() -> None:
    assert classify("TypeError", "seats.formatSeat is not a function").kind == "not_callable"
