"""The playbook on TypeScript/JavaScript: tree-sitter context, real V8 stacks, deployed paths, source maps."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from medic_contracts import FixStrategy, StackFrame
from medic_investigator.adapters.providers import PlaybookProvider
from medic_investigator.domain.typescript_code import typescript_context
from medic_investigator.job.diagnose import diagnose_issue
from medic_stacktrace import SourceMap

from .helpers import BASE_DATE, issue_from_trace, make_repo, run_node, target_for, write

DB_TS = """
export type Practice = { id: string; name: string; tags?: string[] };
const PRACTICES: Record<string, Practice> = { "1": { id: "1", name: "Harbour Dental" } };

export async function getPractice(id: string): Promise<Practice | null> {
  return PRACTICES[id] ?? null;
}
"""

ROUTE_TS = """
import { getPractice } from "../../../../lib/db";

export async function GET(req: Request, { params }: { params: { id: string } }) {
  const practice = await getPractice(params.id);
  return Response.json({ id: practice.id, name: practice.name });
}
"""

node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (scripts/install-system.sh installs it)")


async def test_typescript_null_access_after_lookup_is_a_null_guard_with_a_404(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {"src/lib/db.ts": DB_TS, "src/app/api/practices/[id]/route.ts": ROUTE_TS})
    frames = (
        StackFrame(file="node:internal/process/task_queues", line=95, function="process.processTicksAndRejections"),
        StackFrame(file="webpack://shop/./src/app/api/practices/[id]/route.ts", line=5, column=34, function="GET", in_app=True),
    )
    trace = "TypeError: Cannot read properties of null (reading 'id')\n    at GET (webpack://shop/./src/app/api/practices/[id]/route.ts:5:34)"
    issue = issue_from_trace(trace, frames=frames, first_seen=BASE_DATE + timedelta(days=30))

    diagnosis = await diagnose_issue(issue, target=target_for(repo, "typescript"), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "src/app/api/practices/[id]/route.ts"
    assert diagnosis.affected_lines is not None and (diagnosis.affected_lines.first, diagnosis.affected_lines.last) == (5, 5)
    assert diagnosis.affected_function == "GET"
    assert diagnosis.fix_strategy == FixStrategy.NULL_GUARD
    assert diagnosis.fix_hint is not None
    assert "expression: practice" in diagnosis.fix_hint and "exit: http_404" in diagnosis.fix_hint
    assert "message: Practice not found" in diagnosis.fix_hint
    assert "getPractice" in diagnosis.root_cause  # read from the callee: it returns `?? null`
    assert diagnosis.confidence >= 0.85


def test_typescript_context_finds_operations_and_bindings() -> None:
    source = (
        "export function summary(orders: Order[], body: any) {\n"
        "  const first = orders[0];\n"
        "  const avg = total(orders) / orders.length;\n"
        "  for (const o of body.items) {\n"
        "    console.log(o.id);\n"
        "  }\n"
        "  return { first: first.id, plan: body.settings.plan };\n"
        "}\n"
    )
    ctx = typescript_context(source, file="src/lib/summary.ts", line=3)
    assert ctx.function is not None and ctx.function.name == "summary" and (ctx.function.first, ctx.function.last) == (1, 8)
    assert [o.kind for o in ctx.operations if o.kind == "division"] == ["division"]
    assert any(o.kind == "division" and o.base == "orders.length" for o in ctx.operations)
    loop = typescript_context(source, file="src/lib/summary.ts", line=4)
    assert (loop.statement_first, loop.statement_last) == (4, 4)  # the header only, not the loop body
    assert any(o.kind == "iteration" and o.base == "body.items" for o in loop.operations)
    ret = typescript_context(source, file="src/lib/summary.ts", line=7)
    first = ret.binding("first")
    assert first is not None and first.line == 2 and first.value == "orders[0]"
    assert {o.text for o in ret.operations if o.kind == "attribute"} >= {"first.id", "body.settings.plan", "body.settings"}


@node
async def test_real_node_stack_of_undefined_property_maps_to_repo_and_picks_a_missing_key_guard(tmp_path: Path) -> None:
    handler = (
        "function launch(body) {\n"
        "  const name = body.campaign.name;\n"
        "  return { launched: name };\n"
        "}\n"
        "module.exports = { launch };\n"
    )
    repo, _ = make_repo(tmp_path, {"src/campaigns.js": handler})
    trace = run_node(repo, "require('./src/campaigns.js').launch({})", deployed_prefix="/var/task/")
    assert "/var/task/src/campaigns.js:2" in trace  # a real V8 stack, deployed path
    issue = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=30))
    assert issue.frames and issue.frames[-1].file == "/var/task/src/campaigns.js"

    diagnosis = await diagnose_issue(issue, target=target_for(repo, "javascript"), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "src/campaigns.js"
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == 2
    assert diagnosis.fix_strategy == FixStrategy.MISSING_KEY_GUARD
    assert "body.campaign" in diagnosis.root_cause


def _vlq(value: int) -> str:
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    v = (-value << 1) | 1 if value < 0 else value << 1
    out = ""
    while True:
        digit = v & 31
        v >>= 5
        out += chars[digit | (32 if v else 0)]
        if not v:
            return out


def _map(lines: list[tuple[int, int]]) -> str:
    """A Source Map v3 mapping generated line i (col 0) to original (line, col), encoded per the spec."""
    mappings = []
    prev_line = prev_col = 0
    for original_line, original_col in lines:
        mappings.append(_vlq(0) + _vlq(0) + _vlq(original_line - 1 - prev_line) + _vlq(original_col - prev_col))
        prev_line, prev_col = original_line - 1, original_col
    return json.dumps({"version": 3, "sources": ["../src/stats.ts"], "names": [], "mappings": ";".join(mappings)})


def test_source_map_decodes_generated_positions_to_original_lines() -> None:
    sm = SourceMap.from_json(_map([(1, 0), (4, 2), (9, 4)]))
    position = sm.lookup(3, 11)  # medic_stacktrace counts columns from 1, the map from 0
    assert position is not None and (position.source, position.line, position.column - 1) == ("../src/stats.ts", 9, 4)
    assert sm.lookup(2) is not None and sm.lookup(2).line == 4  # type: ignore[union-attr]
    assert sm.lookup(50) is None


STATS_TS = (
    "export function mean(values: number[]): number {\n"
    "  const total = values.reduce((a, b) => a + b, 0);\n"
    "  const count = values.length;\n"
    "  if (count === 0) throw new Error('division by zero: no values');\n"
    "  return total / count;\n"
    "}\n"
)
STATS_JS = (
    '"use strict";\n'
    "function mean(values) {\n"
    "    const total = values.reduce((a, b) => a + b, 0);\n"
    "    const count = values.length;\n"
    "    if (count === 0) throw new Error('division by zero: no values');\n"
    "    return total / count;\n"
    "}\n"
    "module.exports = { mean };\n"
    "//# sourceMappingURL=stats.js.map\n"
)


@node
async def test_compiled_frame_is_moved_to_the_typescript_line_through_the_build_source_map(tmp_path: Path) -> None:
    source_ts, compiled = STATS_TS, STATS_JS
    mapping = _map([(1, 0), (1, 0), (2, 2), (3, 2), (4, 2), (5, 2), (6, 0), (6, 0)])
    repo, _ = make_repo(tmp_path, {"src/stats.ts": source_ts, "dist/stats.js": compiled, "dist/stats.js.map": mapping})
    trace = run_node(repo, "require('./dist/stats.js').mean([])", deployed_prefix="/app/")
    assert "/app/dist/stats.js:5" in trace
    issue = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=30))

    diagnosis = await diagnose_issue(issue, target=target_for(repo, "typescript"), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "src/stats.ts"
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == 4


@node
async def test_a_frame_in_a_deployed_build_is_mapped_through_the_maps_under_the_targets_source_map_roots(
    tmp_path: Path,
) -> None:
    # The repository holds only the source; the build (compiled file and map) lives in the deployment's checkout,
    # as `next build` output does: the target's source_map_roots names where the deployments are.
    source_ts, compiled, mapping = STATS_TS, STATS_JS, _map([(1, 0), (1, 0), (2, 2), (3, 2), (4, 2), (5, 2), (6, 0), (6, 0)])
    repo, _ = make_repo(tmp_path, {"src/stats.ts": source_ts})
    deployment = tmp_path / "deployments" / "checkouts" / "cmd_production_abc"
    write(deployment, {"src/stats.ts": source_ts, "dist/stats.js": compiled, "dist/stats.js.map": mapping})
    trace = run_node(deployment, "require('./dist/stats.js').mean([])")
    assert f"{deployment}/dist/stats.js:5" in trace
    issue = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=30))

    roots = target_for(repo, "typescript", source_map_roots=[str(tmp_path / "deployments" / "checkouts")])
    mapped = await diagnose_issue(issue, target=roots, repo=repo, provider=PlaybookProvider())
    unmapped = await diagnose_issue(issue, target=target_for(repo, "typescript"), repo=repo, provider=PlaybookProvider())

    assert mapped.affected_file == "src/stats.ts"
    assert mapped.affected_lines is not None and mapped.affected_lines.first == 4
    assert unmapped.affected_lines is None or unmapped.affected_lines.first != 4


NODE_BIN = Path(__file__).resolve().parents[3] / "tools" / "node" / "node_modules" / ".bin"
tsx_tools = pytest.mark.skipif(
    not (NODE_BIN / "tsx").exists(), reason="tools/node is not installed (make install runs scripts/install-node-tools.sh)"
)

ROUTE_WITH_MAIN = ROUTE_TS.replace('"../../../../lib/db"', '"../../../../lib/db.ts"') + (
    "\nGET(new Request('http://x/api/practices/404'), { params: { id: '404' } }).catch((e) => {\n"
    "  console.error(e.stack);\n"
    "  process.exit(1);\n"
    "});\n"
)


@tsx_tools
async def test_real_typescript_failure_run_by_tsx_is_diagnosed_at_its_typescript_line(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {"src/lib/db.ts": DB_TS, "src/app/api/practices/[id]/route.ts": ROUTE_WITH_MAIN})
    result = subprocess.run(
        [str(NODE_BIN / "tsx"), "src/app/api/practices/[id]/route.ts"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    trace = result.stderr.replace(str(repo.resolve()) + "/", "/var/task/")
    assert "TypeError: Cannot read properties of null (reading 'id')" in trace
    assert "/var/task/src/app/api/practices/[id]/route.ts:5" in trace  # tsx maps the stack to the TypeScript line
    issue = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=30))

    diagnosis = await diagnose_issue(issue, target=target_for(repo, "typescript"), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "src/app/api/practices/[id]/route.ts"
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == 5
    assert diagnosis.fix_strategy == FixStrategy.NULL_GUARD and diagnosis.affected_function == "GET"


@tsx_tools
async def test_frames_in_tsc_build_output_are_mapped_back_through_the_real_source_map(tmp_path: Path) -> None:
    source = (
        "export function mean(values: number[]): number {\n"
        "  const total: number = values.reduce((a: number, b: number) => a + b, 0);\n"
        "\n"
        "  const first: { weight: number } | undefined = undefined as { weight: number } | undefined;\n"
        "  return total / values.length / first!.weight;\n"
        "}\n"
    )
    tsconfig = json.dumps(
        {"compilerOptions": {"target": "ES2022", "module": "commonjs", "outDir": "dist", "sourceMap": True, "rootDir": "src"}}
    )
    repo, _ = make_repo(tmp_path, {"src/stats.ts": source, "tsconfig.json": tsconfig})
    subprocess.run([str(NODE_BIN / "tsc"), "-p", "."], cwd=repo, check=True, capture_output=True, timeout=120)
    assert (repo / "dist" / "stats.js.map").is_file()
    trace = run_node(repo, "require('./dist/stats.js').mean([1, 2])", deployed_prefix="/var/task/")
    assert "/var/task/dist/stats.js:" in trace and "stats.ts" not in trace  # plain node: compiled positions only
    issue = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=30))

    diagnosis = await diagnose_issue(issue, target=target_for(repo, "typescript"), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "src/stats.ts", diagnosis
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == 5, diagnosis
    assert diagnosis.fix_strategy == FixStrategy.NULL_GUARD


VOTE_TS = """
export async function POST(request: Request) {
  const body = await request.json();
  return Response.json({ choice: body.choice }, { status: 201 });
}
"""


async def test_a_request_body_that_is_not_json_is_bad_input_answered_400(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {"src/app/api/votes/route.ts": VOTE_TS})
    frames = (StackFrame(file="webpack://polls/./src/app/api/votes/route.ts", line=2, column=16, function="POST", in_app=True),)
    trace = "SyntaxError: Unexpected end of JSON input\n    at POST (webpack://polls/./src/app/api/votes/route.ts:2:16)"
    issue = issue_from_trace(trace, frames=frames, first_seen=BASE_DATE + timedelta(days=30))

    diagnosis = await diagnose_issue(issue, target=target_for(repo, "typescript"), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "src/app/api/votes/route.ts"
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == 2
    assert "request.json()" in diagnosis.root_cause and "answer 400" in diagnosis.root_cause
    assert diagnosis.fix_hint is not None and "exit: http_400" in diagnosis.fix_hint
    assert not diagnosis.needs_human


ARTICLES_TS = """
export function listArticles(req: ApiRequest, res: ApiResponse): void {
  const tag = req.query.tag;
  const wanted = tag ? tag.toLowerCase().split(",") : [];
  res.json({ wanted });
}
"""


async def test_a_query_value_called_with_a_method_its_shape_lacks_is_read_in_both_shapes(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {"src/routes/articles.ts": ARTICLES_TS})
    frames = (StackFrame(file="/srv/app/src/routes/articles.ts", line=3, column=26, function="listArticles", in_app=True),)
    trace = "TypeError: tag.toLowerCase is not a function\n    at listArticles (/srv/app/src/routes/articles.ts:3:26)"
    issue = issue_from_trace(trace, frames=frames, first_seen=BASE_DATE + timedelta(days=30))

    diagnosis = await diagnose_issue(issue, target=target_for(repo, "typescript"), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_lines is not None and (diagnosis.affected_lines.first, diagnosis.affected_lines.last) == (2, 3)
    assert "`req.query.tag`" in diagnosis.root_cause and "repeats the parameter" in diagnosis.root_cause
    assert not diagnosis.needs_human
    # The same call on a value that is not from the query is not this fault: no such diagnosis.
    other = ARTICLES_TS.replace("req.query.tag", "settings.tag")
    repo2, _ = make_repo(tmp_path / "other", {"src/routes/articles.ts": other})
    plain = await diagnose_issue(issue, target=target_for(repo2, "typescript"), repo=repo2, provider=PlaybookProvider())
    assert "repeats the parameter" not in plain.root_cause
