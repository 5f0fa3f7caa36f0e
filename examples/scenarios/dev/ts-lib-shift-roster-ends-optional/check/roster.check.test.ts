import assert from "node:assert/strict";
import { test } from "node:test";

import { rosterText } from "../src/roster";

test("an open shift is listed without an end, like the other optional lines", () => {
  const text = rosterText("Hull", new Date("2026-04-05T05:00:00Z"), [
    { person: "Kit", startsAt: "2026-04-05T20:00:00Z", role: "on call" },
    { person: "Lou", startsAt: "2026-04-05T08:00:00Z", endsAt: "2026-04-05T16:00:00Z" },
  ]);
  assert.equal(
    text,
    [
      "Roster for Hull, 2026-04-05",
      "* Lou",
      "  from 08:00 UTC",
      "  until 16:00 UTC",
      "* Kit",
      "  from 20:00 UTC",
      "  as on call",
      "2 shift(s); first handover 08:00",
    ].join("\n"),
  );
});

test("closed shifts are unchanged", () => {
  const text = rosterText("Hull", new Date("2026-04-05T05:00:00Z"), [
    { person: "Lou", startsAt: "2026-04-05T08:00:00Z", endsAt: "2026-04-05T16:00:00Z", site: "Goole" },
  ]);
  assert.match(text, /  until 16:00 UTC\n  at Goole\n1 shift/);
});
