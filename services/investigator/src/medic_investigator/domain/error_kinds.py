"""What kind of failure an exception is, read from its type and message (Python, V8, Firefox, Safari wording)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["ErrorKind", "Failure", "classify"]

ErrorKind = Literal[
    "none_attribute",  # attribute/property read on None/undefined/null
    "none_subscript",  # subscript of None
    "none_iteration",  # iterating None/undefined
    "none_parse",  # int(None), float(None)
    "none_operand",  # None + 1
    "missing_key",  # KeyError / missing property
    "index_out_of_range",
    "division_by_zero",
    "empty_iterable",  # max() of empty, reduce of empty array
    "parse_error",  # invalid literal, bad JSON
    "undefined_name",  # NameError / ReferenceError
    "signature_mismatch",  # wrong arguments to a call
    "not_callable",  # x is not a function
    "type_mismatch",  # "2" - 1: a value of the wrong type (typically an unconverted request parameter)
    "not_found",  # a lookup that raises when nothing matches (.one(), Model.objects.get)
    "other",
]


@dataclass(frozen=True, slots=True)
class Failure:
    """An exception understood: its kind, the member/key it names, and whether the value was null or undefined."""

    kind: ErrorKind
    member: str | None = None
    nullish: Literal["None", "null", "undefined"] | None = None
    expression: str | None = None  # the expression the engine named (Safari/Firefox: ``a.b``)


_RULES: list[tuple[re.Pattern[str], ErrorKind]] = [
    # Python
    (re.compile(r"'NoneType' object has no attribute '(?P<member>[^']+)'"), "none_attribute"),
    (re.compile(r"'NoneType' object is not subscriptable"), "none_subscript"),
    (
        re.compile(r"(?:argument of type )?'NoneType' object is not iterable|argument of type 'NoneType' is not iterable"),
        "none_iteration",
    ),
    (re.compile(r"(?P<member>int|float|Decimal)\(\) argument must be .* not 'NoneType'"), "none_parse"),
    (re.compile(r"unsupported operand type\(s\) for .*'NoneType'"), "none_operand"),
    (re.compile(r"'NoneType' object is not callable"), "not_callable"),
    (
        re.compile(
            r"unsupported operand type\(s\) for [^:]+: '(?:str|int|float)' and '(?:str|int|float)'|"
            r"can only concatenate str \(not \"(?P<member>int|float)\"\) to str|"
            r"'[<>]=?' not supported between instances of '(?:str|int|float)' and '(?:str|int|float)'|"
            r"can't multiply sequence by non-int of type '(?:str|float)'|"
            # Python's words for "an int was needed here" (range(), slicing, indexing, repetition)
            r"'(?:str|float)' object cannot be interpreted as an integer|slice indices must be integers|"
            r"(?:list|tuple) indices must be integers or slices, not (?:str|float)"
        ),
        "type_mismatch",
    ),
    (
        re.compile(r"(?:list|tuple|string|range object) index out of range|pop from empty list|index \d+ is out of bounds"),
        "index_out_of_range",
    ),
    (
        re.compile(r"(?:integer |float )?division(?: or modulo)? by zero|divide by zero|modulo by zero|Division by zero", re.I),
        "division_by_zero",
    ),
    (
        re.compile(r"(?P<member>max|min)\(\) (?:arg is an empty sequence|iterable argument is empty)|mean requires at least one"),
        "empty_iterable",
    ),
    (re.compile(r"Reduce of empty array with no initial value"), "empty_iterable"),
    (
        re.compile(
            r"invalid literal for (?P<member>int|float)\(\)|could not convert string to float|Expecting value: line|"
            r"is not valid JSON|Unexpected token .* in JSON|Unexpected end of JSON input|Invalid time value|"
            r"invalid (?:isoformat|decimal|uuid)",
            re.I,
        ),
        "parse_error",
    ),
    (re.compile(r"name '(?P<member>[^']+)' is not defined|(?P<member2>[\w$]+) is not defined$"), "undefined_name"),
    (
        re.compile(
            r"takes \d+ positional arguments? but \d+ (?:were|was) given|got an unexpected keyword argument|"
            r"missing \d+ required (?:positional|keyword-only) argument"
        ),
        "signature_mismatch",
    ),
    # V8 (Node, Chrome, Edge)
    (
        re.compile(r"Cannot read propert(?:y|ies) of (?P<nullish>undefined|null) \(reading '(?P<member>[^']*)'\)"),
        "none_attribute",
    ),
    (re.compile(r"Cannot read property '(?P<member>[^']*)' of (?P<nullish>undefined|null)"), "none_attribute"),
    (re.compile(r"Cannot set propert(?:y|ies) of (?P<nullish>undefined|null) \(setting '(?P<member>[^']*)'\)"), "none_attribute"),
    (
        re.compile(r"Cannot destructure property '(?P<member>[^']*)' of '(?P<expr>[^']*)' as it is (?P<nullish>undefined|null)"),
        "none_attribute",
    ),
    (re.compile(r"(?P<expr>[\w$.\[\]'\"]+) is not iterable|(?P<nullish>undefined|null) is not iterable"), "none_iteration"),
    (re.compile(r"Cannot convert (?P<nullish>undefined) or null to object"), "none_iteration"),  # Object.keys(undefined)
    # a method only numbers have: the value is text where a number was meant (an unconverted request parameter)
    (re.compile(r"(?P<expr>[\w$.\[\]'\"]+)\.(?:toFixed|toPrecision|toExponential) is not a function"), "type_mismatch"),
    (re.compile(r"(?P<expr>[\w$.\[\]'\"]+) is not a function"), "not_callable"),
    # Safari
    (re.compile(r"(?P<nullish>undefined|null) is not an object \(evaluating '(?P<expr>[^']*)'\)"), "none_attribute"),
    # Firefox
    (
        re.compile(r"can't access property \"(?P<member>[^\"]*)\",? (?P<expr>[\w$.\[\]]+) is (?P<nullish>undefined|null)"),
        "none_attribute",
    ),
    (re.compile(r"^(?P<expr>[\w$.\[\]'\"]+) is (?P<nullish>undefined|null)$"), "none_attribute"),
]

_TYPE_RULES: dict[str, ErrorKind] = {
    "ZeroDivisionError": "division_by_zero",
    "IndexError": "index_out_of_range",
    "KeyError": "missing_key",
    "NameError": "undefined_name",
    "UnboundLocalError": "undefined_name",
    "ReferenceError": "undefined_name",
    "JSONDecodeError": "parse_error",
    "StopIteration": "empty_iterable",
    "NoResultFound": "not_found",
    "DoesNotExist": "not_found",
    "ObjectDoesNotExist": "not_found",
}


def classify(exc_type: str, message: str) -> Failure:
    """Read an exception's kind from its type name and message."""
    short_type = exc_type.rsplit(".", 1)[-1]
    text = message.strip()
    for pattern, kind in _RULES:
        match = pattern.search(text)
        if match is None:
            continue
        groups = {k: v for k, v in match.groupdict().items() if v}
        member = groups.get("member") or groups.get("member2")
        expression = groups.get("expr")
        nullish_text = groups.get("nullish")
        if "NoneType" in match.group(0):
            nullish_text = "None"
        if expression and member is None and kind == "none_attribute" and "." in expression:
            member = expression.rsplit(".", 1)[-1]
        nullish: Literal["None", "null", "undefined"] | None = None
        if nullish_text in ("None", "null", "undefined"):
            nullish = nullish_text  # type: ignore[assignment]
        return Failure(kind, member, nullish, expression)
    suffixes = ("KeyError", "IndexError", "ZeroDivisionError", "DoesNotExist")
    if short_type not in _TYPE_RULES and short_type.endswith(suffixes):
        short_type = next(t for t in suffixes if short_type.endswith(t))  # subclasses (MultiValueDictKeyError, User.DoesNotExist)
    if short_type in _TYPE_RULES:
        kind = _TYPE_RULES[short_type]
        member = None
        if kind == "missing_key":
            member = text
        return Failure(kind, member)
    return Failure("other")
