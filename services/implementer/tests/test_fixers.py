"""Template fixers (Python and TypeScript), failure reading and regression-test generation."""

from __future__ import annotations

import ast
from datetime import timedelta

import pytest

from medic_contracts import DiagnosisReady, Evidence, FixStrategy, IssueBrief, IssueType, Producer, RequestContext, Severity
from medic_implementer.domain.failure import FailureFacts, FailureKind, entity_name, read_failure
from medic_implementer.domain.fixers.python import python_template_fixes
from medic_implementer.domain.fixers.typescript import parses_cleanly, typescript_template_fixes
from medic_implementer.domain.regression import (
    AppLocation,
    find_python_app,
    python_regression_test,
    route_params,
    typescript_regression_test,
)


def facts(kind: FailureKind, **kw: object) -> FailureFacts:
    return FailureFacts(kind=kind, exception_type=None, message="", **kw)  # type: ignore[arg-type]


def diag(
    title: str, *, strategy: FixStrategy = FixStrategy.NULL_GUARD, hint: str | None = None, root: str = "x"
) -> DiagnosisReady:
    return DiagnosisReady(
        producer=Producer(service="investigator", instance="t"),
        issue_id="iss_1",
        issue=IssueBrief(
            target="shop", service="web", title=title, severity=Severity.P2, issue_type=IssueType.API_ERROR, fingerprint="f"
        ),
        root_cause=root,
        affected_file="a.py",
        fix_strategy=strategy,
        fix_hint=hint,
        confidence=0.9,
        fixability=0.9,
        estimated_fix_time=timedelta(minutes=1),
        provider="playbook",
    )


# ---- reading the failure ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "kind", "prop"),
    [
        ("TypeError: Cannot read properties of null (reading 'name')", FailureKind.NONE_VALUE, "name"),
        ("TypeError: Cannot read properties of undefined (reading 'id')", FailureKind.NONE_VALUE, "id"),
        ("TypeError: Cannot read property 'email' of undefined", FailureKind.NONE_VALUE, "email"),
        ("AttributeError: 'NoneType' object has no attribute 'plan'", FailureKind.NONE_VALUE, "plan"),
        ("KeyError: 'campaign_id'", FailureKind.MISSING_KEY, None),
        ("IndexError: list index out of range", FailureKind.OUT_OF_BOUNDS, None),
        ("ZeroDivisionError: division by zero", FailureKind.DIVIDE_BY_ZERO, None),
        ("ValueError: max() arg is an empty sequence", FailureKind.EMPTY_ITERABLE, None),
        ("TypeError: Reduce of empty array with no initial value", FailureKind.EMPTY_ITERABLE, None),
    ],
)
def test_the_failure_kind_and_property_are_read_from_the_title(title: str, kind: FailureKind, prop: str | None) -> None:
    read = read_failure(diag(title))
    assert read.kind is kind and read.property_name == prop


def test_the_hint_names_the_guarded_expression_and_the_exit() -> None:
    read = read_failure(diag("TypeError: x", hint="guard `practice`; return 404 'Practice not found'"))
    assert read.hinted_expression == "practice" and read.exit_status == 404 and read.exit_message == "Practice not found"
    assert read_failure(diag("KeyError: 'plan'")).missing_key == "plan"


def test_entity_names_read_like_words() -> None:
    assert entity_name("practice") == "Practice"
    assert entity_name("user.billingAccount") == "Billing account"
    assert entity_name('data["practice_id"]') == "Practice id"


# ---- Python templates ---------------------------------------------------------------------------

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


# ---- TypeScript templates -----------------------------------------------------------------------

NEXT_ROUTE = """import { NextResponse } from "next/server";
import { getPractice } from "@/lib/db";

export async function GET(req: Request, { params }: { params: { id: string } }) {
  const practice = await getPractice(params.id);
  return NextResponse.json({ name: practice.name });
}
"""

EXPRESS = """export function handler(req, res) {
  const user = users.find((u) => u.id === req.params.id);
  res.json({ email: user.email });
}
"""


def test_a_next_route_returns_404_practice_not_found_with_next_response() -> None:
    [edit] = typescript_template_fixes(
        path="src/app/api/practices/[id]/route.ts",
        text=NEXT_ROUTE,
        lines=[6],
        facts=facts(FailureKind.NONE_VALUE, property_name="name"),
    )
    assert (
        '  if (practice == null) {\n    return NextResponse.json({ error: "Practice not found" }, { status: 404 });\n  }\n'
        "  return NextResponse.json({ name: practice.name });"
    ) in edit.new_text
    assert parses_cleanly(edit.new_text, "route.ts")


def test_a_route_without_next_server_uses_response_json_and_an_express_handler_uses_res() -> None:
    plain = NEXT_ROUTE.replace('import { NextResponse } from "next/server";\n', "").replace("NextResponse.json", "Response.json")
    [edit] = typescript_template_fixes(
        path="app/api/practices/[id]/route.ts", text=plain, lines=[5], facts=facts(FailureKind.NONE_VALUE, property_name="name")
    )
    assert 'return Response.json({ error: "Practice not found" }, { status: 404 });' in edit.new_text
    [express] = typescript_template_fixes(
        path="src/users.js", text=EXPRESS, lines=[3], facts=facts(FailureKind.NONE_VALUE, property_name="email")
    )
    assert 'if (user == null) {\n    return res.status(404).json({ error: "User not found" });\n  }' in express.new_text


def test_an_exit_message_from_the_hint_is_used_verbatim() -> None:
    [edit] = typescript_template_fixes(
        path="src/app/api/practices/[id]/route.ts",
        text=NEXT_ROUTE,
        lines=[6],
        facts=facts(FailureKind.NONE_VALUE, property_name="name", exit_status=410, exit_message="Practice was removed"),
    )
    assert '{ error: "Practice was removed" }, { status: 410 }' in edit.new_text


# ---- regression tests ---------------------------------------------------------------------------


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


def test_next_route_params_come_from_the_file_path_and_the_url() -> None:
    assert route_params("src/app/api/practices/[id]/route.ts", "/api/practices/42") == {"id": "42"}
    assert route_params("app/(shop)/api/[org]/items/[...rest]/route.ts", "/api/acme/items/a/b") == {
        "org": "acme",
        "rest": ["a", "b"],
    }
    assert route_params("src/app/api/practices/[id]/route.ts", "/api/users/42") is None


def test_a_typescript_regression_test_calls_the_exported_handler() -> None:
    test = typescript_regression_test(
        issue_id="iss_1",
        title="t",
        request=RequestContext(method="GET", url="https://shop/api/practices/999"),
        route_file="src/app/api/practices/[id]/route.ts",
        route_text=NEXT_ROUTE,
        test_command="vitest run",
        test_file="src/app/api/practices/[id]/route.medic-iss_1.test.ts",
    )
    assert test is not None
    assert 'import { test, expect } from "vitest";' in test.content
    assert 'import { GET } from "./route";' in test.content
    assert 'const params = {"id": "999"};' in test.content
    assert parses_cleanly(test.content, test.path)
    none = typescript_regression_test(
        issue_id="iss_1",
        title="t",
        request=RequestContext(method="DELETE", url="https://shop/api/practices/999"),
        route_file="src/app/api/practices/[id]/route.ts",
        route_text=NEXT_ROUTE,
        test_command="vitest run",
        test_file="x.test.ts",
    )
    assert none is None  # the route exports no DELETE handler


def test_request_evidence_round_trips() -> None:
    from medic_implementer.domain.failure import request_from_evidence

    d = diag("x").model_copy(
        update={
            "evidence": (
                Evidence(kind="request", summary="r", detail=RequestContext(method="GET", url="http://a/b").model_dump_json()),
            )
        }
    )
    assert request_from_evidence(d) == RequestContext(method="GET", url="http://a/b")


DOCS = """export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const doc = findDocument(id);
  const latest = doc.versions[doc.versions.length - 1];
  return Response.json({ id: doc.id, latest: { number: latest.number, author: latest.author } });
}
"""

PERMISSIONS = """export function canEdit(session: Session | null, projectId: string): boolean {
  const role = session!.user.roles[projectId];
  return role === "editor";
}
"""

SEARCH = """export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const tags = url.searchParams.get("tags")!.split(",").filter(Boolean);
  return Response.json({ tags });
}
"""


def test_a_derived_value_becomes_null_instead_of_a_404() -> None:
    edits = typescript_template_fixes(
        path="src/app/api/documents/[id]/route.ts",
        text=DOCS,
        lines=[5],
        facts=facts(FailureKind.NONE_VALUE, property_name="number"),
    )
    assert "latest: latest == null ? null : { number: latest.number, author: latest.author }" in edits[0].new_text
    assert any("status: 404" in e.new_text for e in edits[1:])


def test_a_wrong_non_null_assertion_is_guarded_with_the_functions_empty_value() -> None:
    [edit] = typescript_template_fixes(
        path="src/lib/permissions.ts", text=PERMISSIONS, lines=[2], facts=facts(FailureKind.NONE_VALUE, property_name="user")
    )
    assert "  if (session == null) {\n    return false;\n  }\n  const role = session!.user" in edit.new_text


def test_a_null_call_result_read_as_a_string_defaults_to_empty() -> None:
    edits = typescript_template_fixes(
        path="src/app/api/products/route.ts", text=SEARCH, lines=[3], facts=facts(FailureKind.NONE_VALUE, property_name="split")
    )
    assert 'const tags = (url.searchParams.get("tags") ?? "").split(",").filter(Boolean);' in edits[0].new_text


def test_an_off_by_one_loop_bound_is_fixed_before_any_guard() -> None:
    text = (
        "export function count(items: Item[]): number {\n  let n = 0;\n"
        "  for (let i = 0; i <= items.length; i++) {\n    n += items[i].quantity;\n  }\n  return n;\n}\n"
    )
    edits = typescript_template_fixes(
        path="src/lib/cart.ts", text=text, lines=[4], facts=facts(FailureKind.NONE_VALUE, property_name="quantity")
    )
    assert "for (let i = 0; i < items.length; i++)" in edits[0].new_text
    assert "continue;" in edits[1].new_text


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


def test_a_bigint_division_by_zero_yields_zero_n() -> None:
    text = (
        "export function avg(xs: bigint[], n: number): bigint {\n"
        "  const total = xs.reduce((a, b) => a + b, 0n) / BigInt(n);\n  return total;\n}\n"
    )
    [edit] = typescript_template_fixes(
        path="src/lib/stats.ts",
        text=text,
        lines=[2],
        facts=FailureFacts(kind=FailureKind.DIVIDE_BY_ZERO, exception_type="RangeError", message="Division by zero"),
    )
    assert "(BigInt(n) == 0n ? 0n : xs.reduce((a, b) => a + b, 0n) / BigInt(n))" in edit.new_text
