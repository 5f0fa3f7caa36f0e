"""TypeScript template fixers (404 exits in Next and Express handlers, derived values, non-null assertions, loop bounds,
bigint division) and the TypeScript regression test.
"""

from __future__ import annotations

import dataclasses

from medic_contracts import RequestContext
from medic_implementer.domain.failure import FailureFacts, FailureKind
from medic_implementer.domain.fixers.typescript import parses_cleanly, typescript_template_fixes
from medic_implementer.domain.regression import route_params, typescript_regression_test


def facts(kind: FailureKind, **kw: object) -> FailureFacts:
    return FailureFacts(kind=kind, exception_type=None, message="", **kw)  # type: ignore[arg-type]


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


VOTE_ROUTE = """import { getPoll, vote } from "@/lib/polls";

export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const poll = getPoll(id);
  if (!poll) {
    return Response.json({ error: "Poll not found" }, { status: 404 });
  }
  const body = await request.json();
  if (typeof body.choice !== "string") {
    return Response.json({ error: "choice is required" }, { status: 400 });
  }
  return Response.json(vote(poll, body.choice), { status: 201 });
}
"""


def test_a_request_body_that_is_not_json_is_answered_with_the_route_s_own_400_shape() -> None:
    bad_json = FailureFacts(
        kind=FailureKind.UNPARSABLE_INPUT, exception_type="SyntaxError", message="Unexpected end of JSON input"
    )
    (edit,) = typescript_template_fixes(path="src/app/api/polls/[id]/vote/route.ts", text=VOTE_ROUTE, lines=[9], facts=bad_json)
    assert (
        "  const body = await request.json().catch(() => undefined);\n"
        "  if (body === undefined) {\n"
        '    return Response.json({ error: "invalid JSON body" }, { status: 400 });\n'
        "  }\n"
    ) in edit.new_text
    # The same read outside a route handler is not a client's request: no fix.
    helper = VOTE_ROUTE.replace("export async function POST(", "async function readVote(")
    assert typescript_template_fixes(path="src/lib/votes.ts", text=helper, lines=[9], facts=bad_json) == []


def _vote_fix(route: str) -> str:
    bad_json = FailureFacts(
        kind=FailureKind.UNPARSABLE_INPUT, exception_type="SyntaxError", message="Unexpected end of JSON input"
    )
    (edit,) = typescript_template_fixes(path="src/app/api/polls/[id]/vote/route.ts", text=route, lines=[9], facts=bad_json)
    assert parses_cleanly(edit.new_text, "route.ts")
    return edit.new_text


def test_a_typed_or_wrapped_body_read_keeps_its_type_and_gets_the_same_tolerant_read() -> None:
    typed = VOTE_ROUTE.replace(
        "const body = await request.json();", "const body: { choice?: string } | null = await request.json();"
    )
    assert (
        "  const body: { choice?: string } | null = await request.json().catch(() => undefined);\n  if (body === undefined) {\n"
        in _vote_fix(typed)
    )
    wrapped = VOTE_ROUTE.replace(
        "const body = await request.json();", "const body = (await request.json()) as { choice?: string };"
    )
    assert (
        "  const body = (await request.json().catch(() => undefined)) as { choice?: string };\n  if (body === undefined) {\n"
        in _vote_fix(wrapped)
    )


def test_a_destructured_body_read_is_split_so_the_guard_runs_before_the_destructuring() -> None:
    route = VOTE_ROUTE.replace("const body = await request.json();", "const { choice } = await request.json();").replace(
        "body.choice", "choice"
    )
    assert (
        "  const body = await request.json().catch(() => undefined);\n"
        "  if (body === undefined) {\n"
        '    return Response.json({ error: "invalid JSON body" }, { status: 400 });\n'
        "  }\n"
        "  const { choice } = body;\n"
    ) in _vote_fix(route)


def test_a_body_read_that_transforms_the_value_first_or_reads_another_request_gets_no_fix() -> None:
    bad_json = FailureFacts(
        kind=FailureKind.UNPARSABLE_INPUT, exception_type="SyntaxError", message="Unexpected end of JSON input"
    )
    for read in ("const body = VoteSchema.parse(await request.json());", "const body = await upstream.json();"):
        route = VOTE_ROUTE.replace("const body = await request.json();", read)
        assert typescript_template_fixes(path="src/app/api/polls/[id]/vote/route.ts", text=route, lines=[9], facts=bad_json) == []


DISHES = """import type { Request, Response } from "../http";
import { DISHES } from "../data";

export function listDishes(req: Request, res: Response) {
  const diets = (req.query.diet ?? "").split(",").filter(Boolean);
  const wanted = req.query.course;
  const picked = DISHES.filter((d) => diets.every((x) => d.diets.includes(x)));
  return res.status(200).json({ dishes: wanted ? picked.filter((d) => wanted.includes(d.course)) : picked });
}
"""


def _shape(message: str) -> FailureFacts:
    return FailureFacts(kind=FailureKind.WRONG_SHAPE, exception_type="TypeError", message=message)


def test_a_repeated_query_value_split_as_text_is_joined_first_so_every_value_counts() -> None:
    (edit,) = typescript_template_fixes(
        path="src/routes/dishes.ts", text=DISHES, lines=[5], facts=_shape('(req.query.diet ?? "").split is not a function')
    )
    assert '  const diets = (([] as string[]).concat(req.query.diet ?? []).join(",") ?? "").split(",").filter(Boolean);\n' in (
        edit.new_text
    )


def test_a_single_query_value_read_as_a_list_becomes_a_list_of_one_at_its_declaration() -> None:
    route = DISHES.replace("wanted.includes(d.course)", "wanted.some((c) => c === d.course)")
    (edit,) = typescript_template_fixes(
        path="src/routes/dishes.ts", text=route, lines=[8], facts=_shape("wanted.some is not a function")
    )
    assert "  const wanted = ([] as string[]).concat(req.query.course ?? []);\n" in edit.new_text


def test_other_text_methods_and_values_that_are_not_the_request_s_query_get_no_shape_fix() -> None:
    lower = DISHES.replace('(req.query.diet ?? "").split(",")', "[req.query.diet.toLowerCase()]")
    assert (
        typescript_template_fixes(
            path="src/routes/dishes.ts", text=lower, lines=[5], facts=_shape("req.query.diet.toLowerCase is not a function")
        )
        == []
    )
    other = DISHES.replace('(req.query.diet ?? "").split(",")', 'String(config.diet).split(",")')
    assert (
        typescript_template_fixes(
            path="src/routes/dishes.ts", text=other, lines=[5], facts=_shape("String(...).split is not a function")
        )
        == []
    )


def test_text_methods_before_the_split_keep_the_comma_joined_meaning_of_a_repeated_value() -> None:
    route = DISHES.replace('(req.query.diet ?? "").split(",")', 'req.query.diet.toLowerCase().trim().split(",")')
    (edit,) = typescript_template_fixes(
        path="src/routes/dishes.ts", text=route, lines=[5], facts=_shape("req.query.diet.toLowerCase is not a function")
    )
    assert (
        'const diets = ([] as string[]).concat(req.query.diet ?? []).join(",").toLowerCase().trim().split(",")' in edit.new_text
    )


def test_a_list_read_that_replaced_a_split_keeps_splitting_each_value_the_way_older_clients_send_it() -> None:
    route = DISHES.replace("wanted.includes(d.course)", "wanted.some((c) => c === d.course)")
    shape = dataclasses.replace(
        _shape("wanted.some is not a function"), removed_lines=('const wanted = String(req.query.course ?? "").split(",");',)
    )
    (edit,) = typescript_template_fixes(path="src/routes/dishes.ts", text=route, lines=[8], facts=shape)
    assert '  const wanted = ([] as string[]).concat(req.query.course ?? []).flatMap((v) => v.split(","));\n' in edit.new_text
    # A removed line about another parameter says nothing about this one.
    other = dataclasses.replace(shape, removed_lines=('const tags = String(req.query.tag ?? "").split(",");',))
    (plain,) = typescript_template_fixes(path="src/routes/dishes.ts", text=route, lines=[8], facts=other)
    assert "flatMap" not in plain.new_text


FEED = """export interface Episode {
  guid: string;
  title: string;
  publishedAt?: string;
  duration?: number;
  explicit?: boolean;
}

export function items(episodes: Episode[]): string[] {
  const xml: string[] = [];
  for (const ep of episodes) {
    xml.push(`<item><guid>${ep.guid}</guid><title>${ep.title}</title>`);
    xml.push(`<pubDate>${new Date(ep.publishedAt).toUTCString()}</pubDate>`);
    if (ep.duration !== undefined) xml.push(`<itunes:duration>${ep.duration}</itunes:duration>`);
    if (ep.explicit) xml.push("<itunes:explicit>true</itunes:explicit>");
    xml.push("</item>");
  }
  return xml;
}
"""
INVALID_TIME = FailureFacts(kind=FailureKind.INVALID_DATE, exception_type="RangeError", message="Invalid time value")


def test_an_optional_field_made_into_a_date_is_written_only_when_present_like_its_sibling_fields() -> None:
    (edit,) = typescript_template_fixes(path="src/feed.ts", text=FEED, lines=[13], facts=INVALID_TIME)
    assert (
        "    if (ep.publishedAt) xml.push(`<pubDate>${new Date(ep.publishedAt).toUTCString()}</pubDate>`);\n"
        "    if (ep.duration !== undefined)"
    ) in edit.new_text
    assert edit.guarded == "ep.publishedAt"
    # Only a comparison among the siblings: the same comparison, with this field.
    compared = FEED.replace("if (ep.explicit) xml.push", "if (ep.explicit !== undefined) xml.push")
    (edit,) = typescript_template_fixes(path="src/feed.ts", text=compared, lines=[13], facts=INVALID_TIME)
    assert "    if (ep.publishedAt !== undefined) xml.push(`<pubDate>" in edit.new_text


def test_a_date_field_the_type_requires_or_with_no_sibling_convention_gets_no_fix() -> None:
    required = FEED.replace("  publishedAt?: string;", "  publishedAt: string;")
    assert typescript_template_fixes(path="src/feed.ts", text=required, lines=[13], facts=INVALID_TIME) == []
    # The siblings write their fields unconditionally: nothing says an absent field's line may be left out.
    unguarded = FEED.replace("if (ep.duration !== undefined) ", "").replace("if (ep.explicit) ", "")
    assert typescript_template_fixes(path="src/feed.ts", text=unguarded, lines=[13], facts=INVALID_TIME) == []
    # A sibling condition of another record, or another call, is not this record's convention.
    other = FEED.replace("if (ep.duration !== undefined) xml.push", "if (episodes.length) console.log")
    other = other.replace("if (ep.explicit) xml.push", "if (ep.explicit) console.log")
    assert typescript_template_fixes(path="src/feed.ts", text=other, lines=[13], facts=INVALID_TIME) == []
    # Two fields in one Date-making statement: which one was absent? No fix.
    both = FEED.replace(
        "new Date(ep.publishedAt).toUTCString()", "new Date(ep.publishedAt).toUTCString()}${new Date(ep.updatedAt).toUTCString()"
    )
    assert typescript_template_fixes(path="src/feed.ts", text=both, lines=[13], facts=INVALID_TIME) == []
