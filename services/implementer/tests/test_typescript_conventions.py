"""TypeScript fixes that follow the code's own conventions: declared types, sibling exits, and the reproducers
for a library crash behind a Next.js route, an Express-style handler and a plain exported function."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from medic_contracts import Evidence, FixStrategy, RequestContext, StackFrame
from medic_implementer.domain.failure import FailureFacts, FailureKind, read_failure
from medic_implementer.domain.fixers.typescript import parses_cleanly, typescript_template_fixes
from medic_implementer.domain.ts_reproducers import (
    call_values,
    exported_function,
    express_handler_test,
    express_query,
    handler_params,
    next_route_file,
)
from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
from medic_testing.implementer import diagnosis, git, local_forge, make_repo


def facts(kind: FailureKind, **kw: object) -> FailureFacts:
    return FailureFacts(kind=kind, exception_type="TypeError", message="", **kw)  # type: ignore[arg-type]


NULLABLE_MEAN = """type Summary = {
  count: number;
  mean: number | null;
};

export function summarise(values: bigint[]): Summary {
  const total = values.reduce((a, b) => a + b, 0n);
  const summary: Summary = {
    count: values.length,
    mean: Number(total / BigInt(values.length)),
  };
  return summary;
}
"""


def test_a_division_landing_in_a_field_typed_number_or_null_yields_null_not_zero() -> None:
    [edit] = typescript_template_fixes(
        path="src/summary.ts",
        text=NULLABLE_MEAN,
        lines=[10],
        facts=FailureFacts(kind=FailureKind.DIVIDE_BY_ZERO, exception_type="RangeError", message="Division by zero"),
    )
    assert "mean: BigInt(values.length) == 0n ? null : Number(total / BigInt(values.length))," in edit.new_text
    assert parses_cleanly(edit.new_text, "src/summary.ts")


def test_a_division_returned_as_a_declared_bigint_keeps_its_zero() -> None:
    text = "export function per(total: bigint, n: number): bigint {\n  return total / BigInt(n);\n}\n"
    [edit] = typescript_template_fixes(
        path="a.ts",
        text=text,
        lines=[2],
        facts=FailureFacts(kind=FailureKind.DIVIDE_BY_ZERO, exception_type="RangeError", message="Division by zero"),
    )
    assert "return (BigInt(n) == 0n ? 0n : total / BigInt(n));" in edit.new_text


RESULT_HANDLER = """export interface Result {
  status: number;
  body: unknown;
}

export async function getInvoice(req: { params: Record<string, string> }): Promise<Result> {
  const account = findAccount(req.params.account);
  if (!account) {
    return { status: 404, body: { reason: "account not found" } };
  }
  const invoice = account.invoices.get(req.params.id);
  return { status: 200, body: { id: invoice.id } };
}
"""


def test_a_guard_returns_the_functions_own_status_body_shape_with_its_message_key() -> None:
    [edit] = typescript_template_fixes(
        path="src/invoices.ts", text=RESULT_HANDLER, lines=[12], facts=facts(FailureKind.NONE_VALUE, property_name="id")
    )
    assert 'if (invoice == null) {\n    return { status: 404, body: { reason: "invoice not found" } };\n  }' in edit.new_text


EXPRESS_VOID = """export function getRoom(req: Req, res: Res): void {
  const room = rooms.get(req.params.id);
  res.json({ name: room.name });
}

export function getGuest(req: Req, res: Res): void {
  const guest = guests.get(req.params.id);
  if (!guest) {
    res.status(404).json({ message: "guest not found" });
    return;
  }
  res.json(guest);
}
"""


def test_an_express_guard_copies_the_modules_res_status_json_then_return_form() -> None:
    [edit] = typescript_template_fixes(
        path="src/rooms.ts", text=EXPRESS_VOID, lines=[3], facts=facts(FailureKind.NONE_VALUE, property_name="name")
    )
    assert (
        'if (room == null) {\n    res.status(404).json({ message: "room not found" });\n    return;\n  }\n'
        "  res.json({ name: room.name });"
    ) in edit.new_text
    assert parses_cleanly(edit.new_text, "src/rooms.ts")


def test_a_missing_request_header_takes_the_handlers_own_rejection_not_a_404() -> None:
    text = (
        "export function hook(req: Req, res: Res): void {\n"
        '  const [scheme, sig] = req.headers["x-sig"].split("=");\n'
        "  if (!valid(scheme, sig)) {\n"
        '    res.status(401).json({ error: "bad signature" });\n'
        "    return;\n"
        "  }\n"
        "  res.json({ ok: true });\n"
        "}\n"
    )
    edits = typescript_template_fixes(
        path="src/hook.ts", text=text, lines=[2], facts=facts(FailureKind.NONE_VALUE, property_name="split")
    )
    guard = next(e for e in edits if "== null" in e.new_text)
    assert 'if (req.headers["x-sig"] == null) {\n    res.status(401).json({ error: "bad signature" });\n    return;' in (
        guard.new_text
    )


def test_no_guard_returns_null_where_the_declared_return_type_forbids_it() -> None:
    text = "export function label(u: User): Label {\n  const p = u.profile;\n  return { text: p.name };\n}\n"
    edits = typescript_template_fixes(
        path="a.ts", text=text, lines=[3], facts=facts(FailureKind.NONE_VALUE, property_name="name")
    )
    assert not any("return null" in e.new_text for e in edits)


def test_the_next_route_serving_a_path_is_found_static_segments_first() -> None:
    files = ["src/app/api/me/avatar/route.ts", "src/app/api/me/[field]/route.ts", "src/lib/avatar.ts"]
    assert next_route_file(files, "/api/me/avatar") == "src/app/api/me/avatar/route.ts"
    assert next_route_file(files, "/api/me/email") == "src/app/api/me/[field]/route.ts"
    assert next_route_file(files, "/api/other") is None


def test_handler_params_and_exported_signatures_are_read_from_the_code() -> None:
    text = "export async function getRoster(req: ApiRequest, res: ApiResponse) {\n  const { classId } = req.params;\n}\n"
    assert handler_params(text, "req") == ["classId"]
    assert handler_params('x(req.params.id, req.params["slug"])', "req") == ["id", "slug"]
    assert exported_function(text, "a.ts", "getRoster") == ([("req", "ApiRequest"), ("res", "ApiResponse")], True)
    assert exported_function("function hidden(a: number) {}\n", "a.ts", "hidden") is None


def test_express_params_come_from_id_like_segments_and_everything_is_embedded_as_json() -> None:
    text = "export function getRoster(req: Req, res: Res): void {\n  const { classId } = req.params;\n}\n"
    test = express_handler_test(
        issue_id="iss_1",
        title="TypeError: x",
        request=RequestContext(method="GET", url="https://api.example/classes/cl_9/roster?x=%22);process.exit(1)//"),
        handler_file="src/api/classes.ts",
        handler_text=text,
        function="getRoster",
        test_command="tsx --test tests/a.test.ts",
        test_file="tests/medic-regression-iss-1.test.ts",
    )
    assert test is not None
    assert '"params": {"classId": "cl_9"}' in test.content
    assert '"query": {"x": "\\");process.exit(1)//"}' in test.content
    assert 'import { getRoster } from "../src/api/classes";' in test.content


def test_frame_values_become_typed_call_arguments() -> None:
    params = [("rows", "Row[]"), ("sep", "string"), ("limit", "number")]
    assert call_values(params, {"rows": "[]", "sep": ",", "limit": "3"}) == [[], ",", 3]
    assert call_values(params, {"rows": "[]", "sep": ","}) is None  # a parameter without a value: no reproducer
    assert call_values([("n", "number")], {"n": "Math.random()"}) is None  # not JSON: never code


# ---- end to end: reproduced in a real checkout with tsx, fixed, pinned ----------------------------------------

TS_TEST_CMD = "tsx --test tests/app.test.ts"
PACKAGE = '{"name": "t", "private": true, "type": "module"}\n'

EXPRESS_GOOD = """type Req = { params: Record<string, string> };
type Res = { status(code: number): Res; json(body: unknown): Res };

const desks = new Map([["dk_1", { id: "dk_1", floor: 3 }]]);

export function getDesk(req: Req, res: Res): void {
  const desk = desks.get(req.params.deskId);
  if (!desk) {
    res.status(404).json({ message: "desk not found" });
    return;
  }
  res.json({ floor: desk.floor });
}
"""
EXPRESS_BUG = (
    EXPRESS_GOOD
    + """
const bookings = new Map([["bk_1", { deskId: "dk_1", day: "mon" }]]);

export function getBooking(req: Req, res: Res): void {
  const booking = bookings.get(req.params.bookingId);
  res.json({ desk: booking.deskId, day: booking.day });
}
"""
)
EXPRESS_TEST = """import assert from "node:assert/strict";
import { test } from "node:test";
import { getDesk } from "../src/desks";

test("a desk", () => {
  let body: unknown;
  const res = { status() { return res; }, json(b: unknown) { body = b; return res; } };
  getDesk({ params: { deskId: "dk_1" } }, res);
  assert.deepEqual(body, { floor: 3 });
});
"""


async def test_an_express_handler_failure_is_reproduced_and_fixed_in_its_own_shape(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = make_repo(
        tmp_path,
        good={"package.json": PACKAGE, "src/desks.ts": EXPRESS_GOOD, "tests/app.test.ts": EXPRESS_TEST},
        bug={"src/desks.ts": EXPRESS_BUG},
        language="typescript",
        test_command=TS_TEST_CMD,
    )
    diag = diagnosis(
        affected_file="src/desks.ts",
        lines=(19, 19),
        title="TypeError: Cannot read properties of undefined (reading 'deskId')",
        request=RequestContext(method="GET", url="https://desks.example/bookings/bk_404", status=500),
        commit_sha=repo.bug_sha,
    ).model_copy(update={"affected_function": "getBooking"})
    outcome = await implement_fix(diag, target=repo.target, repo=repo.path, options=fix_options(), forge=local_forge(repo.remote))
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.reproduced is True and outcome.verified is True
    fixed = git(repo.path, "show", f"{outcome.commit_sha}:src/desks.ts")
    assert 'res.status(404).json({ message: "booking not found" });\n    return;' in fixed
    pinned = git(repo.path, "show", f"{outcome.commit_sha}:{outcome.regression_test}")
    assert 'const expected: unknown = {"status": 404, "body_shape": {"message": "string"}};' in pinned


FUNCTION_GOOD = """export function header(rows: Record<string, string>[]): string {
  if (rows.length === 0) return "";
  return Object.keys(rows[0]).join(",");
}
"""
FUNCTION_BUG = """export function header(rows: Record<string, string>[]): string {
  return Object.keys(rows[0]).join(",");
}
"""
FUNCTION_TEST = """import assert from "node:assert/strict";
import { test } from "node:test";
import { header } from "../src/csv";

test("a header", () => assert.equal(header([{ a: "1", b: "2" }]), "a,b"));
"""


async def test_a_plain_typescript_function_is_called_with_the_frames_arguments(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = make_repo(
        tmp_path,
        good={"package.json": PACKAGE, "src/csv.ts": FUNCTION_GOOD, "tests/app.test.ts": FUNCTION_TEST},
        bug={"src/csv.ts": FUNCTION_BUG},
        language="typescript",
        test_command=TS_TEST_CMD,
    )
    frame = StackFrame(file="src/csv.ts", function="header", line=2, in_app=True, vars={"rows": json.dumps([])})
    diag = diagnosis(
        affected_file="src/csv.ts",
        lines=(2, 2),
        title="TypeError: Cannot convert undefined or null to object",
        strategy=FixStrategy.REVERT_COMMIT,
        suspect=repo.bug_sha,
        commit_sha=repo.bug_sha,
        evidence=(Evidence(kind="frame", summary="locals", detail=frame.model_dump_json()),),
    ).model_copy(update={"affected_function": "header"})
    outcome = await implement_fix(diag, target=repo.target, repo=repo.path, options=fix_options(), forge=local_forge(repo.remote))
    assert outcome.reproduced is True, (outcome.reasons, outcome.candidates)
    assert outcome.kind is OutcomeKind.COMMITTED and outcome.verified is True
    pinned = git(repo.path, "show", f"{outcome.commit_sha}:{outcome.regression_test}")
    assert 'const expected: unknown = {"returned": ""};' in pinned


QUERY_NUMBER = """export function quote(req: Req, res: Res) {
  const item = items.get(req.params.id);
  if (!item) {
    return res.status(404).json({ error: "item not found" });
  }
  const qty = req.query.qty ?? 1;
  return res.json({ total: (item.price * (qty as number)).toFixed(2), qty: (qty as number).toFixed(0) });
}
"""


def test_request_text_used_as_a_number_is_parsed_and_bad_input_rejected_with_400() -> None:
    wrong = FailureFacts(kind=FailureKind.WRONG_TYPE, exception_type="TypeError", message="qty.toFixed is not a function")
    [edit] = typescript_template_fixes(path="src/quote.ts", text=QUERY_NUMBER, lines=[7], facts=wrong)
    assert (
        "  const qty = Number(req.query.qty ?? 1);\n"
        "  if (!Number.isFinite(qty)) {\n"
        '    return res.status(400).json({ error: "invalid qty" });\n'
        "  }\n"
    ) in edit.new_text
    assert parses_cleanly(edit.new_text, "src/quote.ts")


def test_a_wrong_type_not_read_from_the_request_gets_no_edit() -> None:
    text = QUERY_NUMBER.replace("req.query.qty ?? 1", "item.qty")
    wrong = FailureFacts(kind=FailureKind.WRONG_TYPE, exception_type="TypeError", message="qty.toFixed is not a function")
    assert typescript_template_fixes(path="src/quote.ts", text=text, lines=[7], facts=wrong) == []


def test_a_number_method_that_is_not_a_function_reads_as_a_wrong_type() -> None:
    assert read_failure(diagnosis(affected_file="a.ts", lines=(1, 1), title="TypeError: n.toFixed is not a function")).kind is (
        FailureKind.WRONG_TYPE
    )
    renamed = diagnosis(affected_file="a.ts", lines=(1, 1), title="TypeError: seats.format is not a function")
    assert read_failure(renamed).kind is not FailureKind.WRONG_TYPE  # a missing function is history's business


def test_object_keys_of_a_missing_value_guards_the_argument_and_returns_the_declared_empty_string() -> None:
    text = "export function header(rows: Row[], sep: string): string {\n  return Object.keys(rows[0]).join(sep);\n}\n"
    convert = FailureFacts(
        kind=FailureKind.NONE_VALUE, exception_type="TypeError", message="Cannot convert undefined or null to object"
    )
    [edit] = typescript_template_fixes(path="src/table.ts", text=text, lines=[2], facts=convert)
    assert 'if (rows[0] == null) {\n    return "";\n  }\n  return Object.keys(rows[0]).join(sep);' in edit.new_text


LAST_ELEMENT = """export function latestReview(req: Req, res: Res): void {
  const place = places.get(req.params.id);
  if (!place) {
    res.status(404).json({ error: "place not found" });
    return;
  }
  const latest = place.reviews[place.reviews.length - 1];
  res.json({ stars: latest.stars, text: latest.text });
}
"""


def test_a_missing_element_that_is_the_whole_response_is_the_handlers_404_not_a_null_body() -> None:
    edits = typescript_template_fixes(
        path="src/places.ts", text=LAST_ELEMENT, lines=[8], facts=facts(FailureKind.NONE_VALUE, property_name="stars")
    )
    assert not any("latest == null ? null" in e.new_text for e in edits)
    [guard] = edits
    assert 'if (latest == null) {\n    res.status(404).json({ error: "no reviews found" });\n    return;\n  }' in guard.new_text


def test_a_missing_element_inside_a_larger_response_still_reads_as_null() -> None:
    text = LAST_ELEMENT.replace(
        "res.json({ stars: latest.stars, text: latest.text });",
        "res.json({ id: place.id, latest: { stars: latest.stars, text: latest.text } });",
    )
    edits = typescript_template_fixes(
        path="src/places.ts", text=text, lines=[8], facts=facts(FailureKind.NONE_VALUE, property_name="stars")
    )
    assert "latest: latest == null ? null : { stars: latest.stars, text: latest.text }" in edits[0].new_text


DESTRUCTURED = """const SEATS: Record<string, { row: string; seat: number }> = { t1: { row: "F", seat: 12 } };

export function seatLabel(ticket: string): string {
  const [first] = [ticket];
  const { row, seat } = SEATS[first];
  return `${row}${seat}`;
}
"""


def test_the_value_a_statement_destructures_is_the_one_guarded_as_the_engine_names_it() -> None:
    message = "Cannot destructure property 'row' of 'SEATS[first]' as it is undefined."
    found = read_failure(
        diagnosis(affected_file="src/seats.ts", lines=(5, 5), title=f"TypeError: {message}", strategy=FixStrategy.NULL_GUARD)
    )
    assert found.hinted_expression == "SEATS[first]" and found.property_name == "row"
    [fix] = typescript_template_fixes(path="src/seats.ts", text=DESTRUCTURED, lines=[5], facts=found)
    assert '  if (SEATS[first] == null) {\n    return "";\n  }\n  const { row, seat } = SEATS[first];' in fix.new_text
    # The array pattern on the line above destructures a fresh array: nothing there to guard.
    assert typescript_template_fixes(path="src/seats.ts", text=DESTRUCTURED, lines=[4], facts=found) == []


def test_the_reproduced_express_query_repeats_a_name_as_an_array_the_way_express_parses_it() -> None:
    assert express_query("tag=a&tag=b&q=x&empty=&ids[]=7") == {"tag": ["a", "b"], "q": "x", "empty": "", "ids": ["7"]}
