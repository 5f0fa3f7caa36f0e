"""The input search on real code: a plain TypeScript module without frame variables, whose parameter objects come
from types in a sibling module and whose required members must hold real dates. Real git, real sandboxed tsx runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medic_contracts import ActionStatus, Evidence, FixStrategy
from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
from medic_testing.implementer import diagnosis, git, local_forge, make_repo

TYPES = """export interface Shift {
  person: string;
  startsAt: string;
  endsAt?: string;
  role?: string;
}
"""
GOOD = """import type { Shift } from "./types";

export function roster(day: Date, shifts: Shift[]): string {
  const lines = [`Roster ${day.toISOString().slice(0, 10)}`];
  for (const shift of shifts) {
    lines.push(`* ${shift.person} from ${new Date(shift.startsAt).toISOString().slice(11, 16)}`);
    if (shift.role) lines.push(`  as ${shift.role}`);
    if (shift.endsAt) lines.push(`  until ${new Date(shift.endsAt).toISOString().slice(11, 16)}`);
  }
  return lines.join("\\n");
}
"""
BUG = GOOD.replace("    if (shift.endsAt) lines.push(`  until", "    lines.push(`  until")
TEST = """import assert from "node:assert/strict";
import { test } from "node:test";

import { roster } from "../src/roster";

const day = new Date(Date.UTC(2026, 3, 2, 5));
const early = { person: "Ada", startsAt: "2026-04-02T06:00:00Z", endsAt: "2026-04-02T14:00:00Z", role: "lead" };

test("shifts with their times", () => {
  assert.equal(roster(day, [early]), "Roster 2026-04-02\\n* Ada from 06:00\\n  as lead\\n  until 14:00");
});
"""


async def test_a_test_call_with_its_optional_member_left_out_reproduces_where_made_up_values_fail_a_line_earlier(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = make_repo(
        tmp_path,
        good={"src/types.ts": TYPES, "src/roster.ts": GOOD, "tests/roster.test.ts": TEST, "package.json": '{"type": "module"}\n'},
        bug={"src/roster.ts": BUG},
        language="typescript",
        test_command="tsx --test tests/roster.test.ts",
    )
    # A made-up startsAt ("medic-unknown") throws the same RangeError on line 6: not production's line 8.
    diag = diagnosis(
        affected_file="src/roster.ts",
        lines=(8, 8),
        title="RangeError: Invalid time value",
        strategy=FixStrategy.NULL_GUARD,
        root_cause="an open shift has no endsAt",
        evidence=(Evidence(kind="stack_frame", summary="crash", source="src/roster.ts:8"),),
        commit_sha=repo.bug_sha,
    ).model_copy(update={"affected_function": "roster"})
    seen: list[tuple[str, ActionStatus, str, dict[str, Any]]] = []
    outcome = await implement_fix(
        diag,
        target=repo.target,
        repo=repo.path,
        options=fix_options(),
        forge=local_forge(repo.remote),
        audit=lambda *record: seen.append(record),
    )
    [search] = [s for s in seen if s[0] == "implementer.input_search"]
    assert search[1] is ActionStatus.SUCCEEDED, search
    day, shifts = json.loads(search[3]["arguments"])
    assert day == {"$date": "2026-04-02T05:00:00.000Z"}  # Date.UTC(2026, 3, 2, 5), read from the test file
    assert shifts == [{"person": "Ada", "startsAt": "2026-04-02T06:00:00Z"}]  # the test's values, optionals left out
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.reproduced and outcome.verified
    pinned = git(repo.path, "show", f"{outcome.commit_sha}:{outcome.regression_test}")
    assert 'const expected: unknown = {"returned": "Roster 2026-04-02\\n* Ada from 06:00"};' in pinned
    assert "revive(" in pinned  # the date argument is a Date again when the test runs
