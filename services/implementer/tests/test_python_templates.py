"""Python template fixers (guards, early exits, ORM rows, request text) and the Python regression test."""

from __future__ import annotations

import ast

import pytest

from medic_contracts import RequestContext
from medic_implementer.domain.failure import FailureFacts, FailureKind
from medic_implementer.domain.fixers.python import python_template_fixes
from medic_implementer.domain.regression import AppLocation, find_python_app, python_regression_test


def facts(kind: FailureKind, **kw: object) -> FailureFacts:
    return FailureFacts(kind=kind, exception_type=None, message="", **kw)  # type: ignore[arg-type]


FLASK = """from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/users/<uid>")
def user(uid):
    record = USERS.get(uid)
    return jsonify(email=record.email)
"""

PLAIN = """def first_item_name(items):
    return items[0].name


def price(prices, plan):
    return prices[plan] * 100


def ratio(done, total):
    return done / total


def best(scores):
    return max(scores)
"""


def test_a_flask_view_aborts_with_404_and_the_import_is_added() -> None:
    [edit] = python_template_fixes(
        path="app.py", text=FLASK, lines=[9], facts=facts(FailureKind.NONE_VALUE, property_name="email")
    )
    assert '    if record is None:\n        abort(404, description="Record not found")\n    return jsonify' in edit.new_text
    assert "from flask import Flask, jsonify, abort" in edit.new_text
    ast.parse(edit.new_text)


@pytest.mark.parametrize(
    ("line", "kind", "expected"),
    [
        (2, FailureKind.OUT_OF_BOUNDS, "    if len(items) <= 0:\n        return None\n    return items[0].name"),
        (6, FailureKind.MISSING_KEY, "    if plan not in prices:\n        return None\n"),
        (10, FailureKind.DIVIDE_BY_ZERO, "    return (done / total if total else 0)\n"),
        (14, FailureKind.EMPTY_ITERABLE, "    if not scores:\n        return None\n    return max(scores)"),
    ],
)
def test_plain_functions_get_bounds_key_zero_and_empty_guards(line: int, kind: FailureKind, expected: str) -> None:
    edits = python_template_fixes(path="lib.py", text=PLAIN, lines=[line], facts=facts(kind))
    assert any(expected in edit.new_text for edit in edits), [e.new_text for e in edits]
    for edit in edits:
        ast.parse(edit.new_text)


CART = """def summary(items):
    top = max(items, key=lambda i: i.price)
    return {"count": len(items), "top": top.name}


def order(payload):
    return payload["shipping"]["country"]


def related(post):
    return set(post["tags"])
"""


def test_value_level_variants_come_before_early_exits() -> None:
    empty = python_template_fixes(path="c.py", text=CART, lines=[2], facts=facts(FailureKind.EMPTY_ITERABLE))
    assert "max(items, key=lambda i: i.price, default=None)" in empty[0].new_text
    assert '"top": (top.name if top is not None else None)' in empty[0].new_text
    key = python_template_fixes(path="c.py", text=CART, lines=[7], facts=facts(FailureKind.MISSING_KEY, missing_key="shipping"))
    assert 'return payload.get("shipping", {}).get("country")' in key[0].new_text
    none = python_template_fixes(
        path="c.py",
        text=CART,
        lines=[11],
        facts=FailureFacts(kind=FailureKind.NONE_VALUE, exception_type="TypeError", message="'NoneType' object is not iterable"),
    )
    assert 'return set((post["tags"] or []))' in none[0].new_text


def test_a_value_looked_up_by_the_route_id_gets_the_404_first() -> None:
    [edit] = python_template_fixes(
        path="app.py", text=FLASK, lines=[9], facts=facts(FailureKind.NONE_VALUE, property_name="email")
    )
    assert "abort(404" in edit.new_text


def test_no_python_template_applies_when_the_line_holds_no_matching_expression() -> None:
    assert (
        python_template_fixes(path="lib.py", text=PLAIN, lines=[10], facts=facts(FailureKind.NONE_VALUE, property_name="zzz"))
        == []
    )
    assert python_template_fixes(path="lib.py", text="def broken(:\n", lines=[1], facts=facts(FailureKind.NONE_VALUE)) == []


ORM = """from fastapi import FastAPI

app = FastAPI()


@app.get("/stock/{sku}")
def available(sku: str, page=None):
    with engine.connect() as conn:
        row = conn.execute(select(stock).where(stock.c.sku == sku)).one()
    return {"sku": row.sku}


async def feed(request):
    page = request.query_params.get("page", 1)
    start = (page - 1) * 10
    return start
"""


def test_a_missing_orm_row_becomes_a_404_and_request_text_becomes_a_number() -> None:
    [row] = python_template_fixes(path="app.py", text=ORM, lines=[9], facts=facts(FailureKind.NO_ROW))
    assert (
        ".where(stock.c.sku == sku)).one_or_none()\n        if row is None:\n            raise HTTPException(status_code=404"
        in row.new_text
    )
    [typed] = python_template_fixes(
        path="app.py",
        text=ORM,
        lines=[15],
        facts=FailureFacts(
            kind=FailureKind.WRONG_TYPE, exception_type="TypeError", message="unsupported operand type(s) for -: 'str' and 'int'"
        ),
    )
    assert 'page = int(request.query_params.get("page", 1))' in typed.new_text


def test_the_python_app_is_found_and_the_generated_test_embeds_the_request_as_literals() -> None:
    app = find_python_app({"tests/test_x.py": "app = FastAPI()", "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
    assert app == AppLocation(file="app/main.py", variable="app", framework="fastapi")
    request = RequestContext(method="POST", url="http://x/api/p?x=1", body='{"a": "\'); import os; os.system(\'boom"}')
    test = python_regression_test(issue_id="iss/1", title="t", request=request, app=app, test_dir="tests")
    assert test is not None and test.path == "tests/test_medic_regression_iss_1.py"
    tree = ast.parse(test.content)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "request"]
    assert [ast.literal_eval(a) for a in calls[0].args] == ["POST", "/api/p?x=1"]
    assert "os.system" not in [getattr(n, "attr", None) for n in ast.walk(tree)]


_USAGE = """from fastapi import FastAPI, HTTPException, Request

app = FastAPI()


@app.get("/reports/usage")
def usage(request: Request) -> dict[str, object]:
    days = int(request.query_params.get("days", "7"))
    if not 1 <= days <= 90:
        raise HTTPException(status_code=400, detail="days must be between 1 and 90")
    return {"days": days}


def page_of(request: Request) -> tuple[int, int]:
    page = int(request.query_params.get("page", "1"))
    size = int(request.query_params.get("size", "25"))
    return page, size


def parse_count(text: str) -> int:
    return int(text)
"""
_NOT_A_NUMBER = "invalid literal for int() with base 10: 'week'"


def _unparsable(message: str) -> FailureFacts:
    return FailureFacts(kind=FailureKind.UNPARSABLE_INPUT, exception_type="ValueError", message=message)


def test_request_text_that_is_not_a_number_is_answered_with_the_handler_s_own_bad_input_exit() -> None:
    edits = python_template_fixes(path="app/main.py", text=_USAGE, lines=[8], facts=_unparsable(_NOT_A_NUMBER))
    assert len(edits) == 1
    fixed = edits[0].new_text
    assert (
        "    try:\n"
        '        days = int(request.query_params.get("days", "7"))\n'
        "    except ValueError:\n"
        '        raise HTTPException(status_code=400, detail="days must be a number") from None\n'
    ) in fixed
    ast.parse(fixed)


def test_a_function_handed_the_request_answers_bad_input_as_the_handler_does_and_other_code_gets_no_fix() -> None:
    (dependency,) = python_template_fixes(path="app/main.py", text=_USAGE, lines=[15], facts=_unparsable(_NOT_A_NUMBER))
    assert (
        "    try:\n"
        '        page = int(request.query_params.get("page", "1"))\n'
        '        size = int(request.query_params.get("size", "25"))\n'
        "    except ValueError:\n"
        '        raise HTTPException(status_code=400, detail="page must be a number") from None\n'
    ) in dependency.new_text  # the next conversion of the same kind is covered too: it would crash the same way
    # Text a caller passed in is not a client's input: no grounded answer, so no fix (a human decides).
    assert python_template_fixes(path="app/main.py", text=_USAGE, lines=[21], facts=_unparsable(_NOT_A_NUMBER)) == []


STATEMENT_IMPORT = """import re

LINE = re.compile(r"(?P<date>\\d{4}-\\d{2}-\\d{2}),(?P<payee>[^,]+),(?P<amount>-?\\d+)")


def import_statement(text: str) -> dict[str, list[dict[str, object]]]:
    imported: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = LINE.match(line)
        amount = int(m.group("amount"))
        if amount <= 0:
            rejected.append({"line": number, "reason": "amount must be positive"})
            continue
        imported.append({"date": m.group("date"), "payee": m.group("payee"), "amount": amount})
    return {"imported": imported, "rejected": rejected}
"""
NO_MATCH = FailureFacts(
    kind=FailureKind.NONE_VALUE,
    exception_type="AttributeError",
    message="'NoneType' object has no attribute 'group'",
    property_name="group",
)


def _run_import(text: str, statement: str, function: str = "import_statement") -> object:
    namespace: dict[str, object] = {}
    exec(compile(text, "imports.py", "exec"), namespace)  # the fixed module under test
    return namespace[function](statement)  # type: ignore[operator]


def test_an_item_a_loop_cannot_use_is_recorded_and_skipped_the_way_the_loop_skips_its_other_bad_items() -> None:
    (edit,) = python_template_fixes(path="ledger/imports.py", text=STATEMENT_IMPORT, lines=[13], facts=NO_MATCH)
    assert (
        "        m = LINE.match(line)\n"
        "        if m is None:\n"
        '            rejected.append({"line": number, "reason": "line does not match the expected format"})\n'
        "            continue\n"
        '        amount = int(m.group("amount"))\n'
    ) in edit.new_text
    assert "\n" not in edit.description
    result = _run_import(edit.new_text, "2026-01-02,Acme,120\nDate,Payee,Amount\n2026-01-03,Beta,-4\n")
    assert result == {
        "imported": [{"date": "2026-01-02", "payee": "Acme", "amount": 120}],
        "rejected": [
            {"line": 2, "reason": "line does not match the expected format"},
            {"line": 3, "reason": "amount must be positive"},
        ],
    }


def test_a_loop_whose_only_skips_drop_items_silently_or_read_later_names_gets_no_skip() -> None:
    silent = STATEMENT_IMPORT.replace('            rejected.append({"line": number, "reason": "amount must be positive"})\n', "")
    # A function returning a mapping has no empty answer either: no grounded exit, so no guard at all.
    assert python_template_fixes(path="ledger/imports.py", text=silent, lines=[13], facts=NO_MATCH) == []
    later = STATEMENT_IMPORT.replace(
        '"reason": "amount must be positive"', '"reason": "amount must be positive", "amount": amount'
    )
    assert python_template_fixes(path="ledger/imports.py", text=later, lines=[13], facts=NO_MATCH) == []


def test_a_missing_key_of_the_loop_item_is_recorded_with_the_key_it_lacks() -> None:
    rows = """def import_rows(rows: list[dict[str, str]]) -> dict[str, list[object]]:
    imported: list[object] = []
    rejected: list[object] = []
    for n, row in enumerate(rows):
        if row.get("kind") == "header":
            rejected.append({"row": n, "error": "Header row"})
            continue
        imported.append(int(row["amount"]))
    return {"imported": imported, "rejected": rejected}
"""
    missing = FailureFacts(kind=FailureKind.MISSING_KEY, exception_type="KeyError", message="'amount'", missing_key="amount")
    edits = python_template_fixes(path="jobs/rows.py", text=rows, lines=[8], facts=missing)
    (edit,) = [e for e in edits if "not in row" in e.new_text]
    assert (
        '        if "amount" not in row:\n'
        '            rejected.append({"row": n, "error": "Missing amount"})\n'
        "            continue\n" in edit.new_text
    )


def test_a_loop_that_records_its_bad_items_in_an_except_handler_gets_the_same_skip() -> None:
    job = """import re
from decimal import Decimal, InvalidOperation

ROW = re.compile(r"(?P<date>[^;]+);(?P<amount>[^;]+)")


def import_rows(text: str) -> dict[str, list[object]]:
    booked: list[object] = []
    rejected: list[object] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        row = ROW.match(raw)
        try:
            booked.append(
                (row.group("date"), Decimal(row.group("amount")))
            )
        except InvalidOperation as exc:
            rejected.append({"line": number, "reason": "amount is not a number"})
            continue
    return {"booked": booked, "rejected": rejected}
"""
    (edit,) = python_template_fixes(path="ledger/jobs.py", text=job, lines=[14], facts=NO_MATCH)
    assert (
        "            if row is None:\n"
        '                rejected.append({"line": number, "reason": "raw does not match the expected format"})\n'
        "                continue\n"
    ) in edit.new_text
    # A handler that records the exception itself cannot be copied where there is no exception.
    reads_exc = job.replace('"reason": "amount is not a number"', '"reason": str(exc)')
    assert python_template_fixes(path="ledger/jobs.py", text=reads_exc, lines=[14], facts=NO_MATCH) == []


STOCK_IMPORT = """import re
from dataclasses import dataclass
from datetime import date

ROW = re.compile(r"(?P<sku>[A-Z0-9-]+);(?P<counted>[^;]+);(?P<quantity>-?\\d+)")


@dataclass
class Count:
    sku: str
    counted_on: date
    quantity: int


def import_counts(text: str) -> dict[str, list[object]]:
    counts: list[Count] = []
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        row = ROW.match(raw.strip())
        try:
            count = Count(
                sku=row.group("sku"),
                counted_on=date.fromisoformat(row.group("counted")),
                quantity=int(row.group("quantity")),
            )
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        counts.append(count)
    return {"counts": counts, "errors": errors}
"""


def test_an_item_inside_the_loops_own_try_is_raised_to_the_handler_that_records_the_others() -> None:
    (edit,) = python_template_fixes(path="stock/imports.py", text=STOCK_IMPORT, lines=[24], facts=NO_MATCH)
    assert (
        "        try:\n"
        "            if row is None:\n"
        '                raise ValueError("raw does not match the expected format")\n'
        "            count = Count(\n"
    ) in edit.new_text
    result = _run_import(edit.new_text, "AB-1;2026-03-01;4\nsku;counted;quantity\nAB-2;03/01/2026;2\n", "import_counts")
    assert isinstance(result, dict)
    assert [c.sku for c in result["counts"]] == ["AB-1"]
    assert result["errors"] == [
        "line 2: raw does not match the expected format",
        "line 3: Invalid isoformat string: '03/01/2026'",
    ]


def test_a_try_whose_handler_does_not_record_and_skip_or_catches_another_type_gets_no_raise() -> None:
    records = '            errors.append(f"line {number}: {exc}")\n            continue\n'
    reraises = STOCK_IMPORT.replace(records, "            raise\n")
    assert python_template_fixes(path="stock/imports.py", text=reraises, lines=[24], facts=NO_MATCH) == []
    other = STOCK_IMPORT.replace("except ValueError as exc:", "except KeyError as exc:")
    assert python_template_fixes(path="stock/imports.py", text=other, lines=[24], facts=NO_MATCH) == []
    own = STOCK_IMPORT.replace("@dataclass\nclass Count", "class RowError(ValueError):\n    pass\n\n\n@dataclass\nclass Count")
    own = own.replace("except ValueError as exc:", "except RowError as exc:")
    (edit,) = python_template_fixes(path="stock/imports.py", text=own, lines=[28], facts=NO_MATCH)
    assert 'raise RowError("raw does not match the expected format")' in edit.new_text
