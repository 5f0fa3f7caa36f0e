import assert from "node:assert/strict";
import { test } from "node:test";

import { rosterText } from "../src/roster";

test("shifts are listed in start order with their times", () => {
  const text = rosterText("Leeds", new Date("2026-04-02T05:00:00Z"), [
    { person: "Sam", startsAt: "2026-04-02T14:00:00Z", endsAt: "2026-04-02T22:00:00Z" },
    { person: "Ada", startsAt: "2026-04-02T06:00:00Z", endsAt: "2026-04-02T14:00:00Z", role: "lead", site: "York" },
  ]);
  assert.equal(
    text,
    [
      "Roster for Leeds, 2026-04-02",
      "* Ada",
      "  from 06:00 UTC",
      "  as lead",
      "  until 14:00 UTC",
      "  at York",
      "* Sam",
      "  from 14:00 UTC",
      "  until 22:00 UTC",
      "2 shift(s); first handover 06:00",
    ].join("\n"),
  );
});
