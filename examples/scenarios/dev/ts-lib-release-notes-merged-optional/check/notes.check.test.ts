import assert from "node:assert/strict";
import { test } from "node:test";

import { releaseNotes } from "../src/notes";

test("a change with no recorded merge is listed without a merged line, like the other optional lines", () => {
  const notes = releaseNotes(
    "2.5.0",
    [
      { title: "Carried over: dark mode", pr: 77, labels: ["ui"] },
      { title: "Retry webhooks", pr: 430, author: "oli", mergedAt: "2026-03-10T08:00:00Z" },
    ],
    new Date("2026-03-11T12:00:00Z"),
    { repository: "acme/shop", heading: "Version" },
  );
  assert.equal(
    notes,
    [
      "## Version 2.5.0 (2026-03-11)",
      "",
      "- Carried over: dark mode ([#77](https://github.com/acme/shop/pull/77))",
      "  labels: ui",
      "- Retry webhooks ([#430](https://github.com/acme/shop/pull/430))",
      "  by @oli",
      "  merged 2026-03-10",
      "",
    ].join("\n"),
  );
});

test("changes with every line are unchanged", () => {
  const notes = releaseNotes("1.0.0", [{ title: "First", pr: 1, author: "a", mergedAt: "2026-01-01T00:00:00Z" }], new Date("2026-01-02T00:00:00Z"), {
    repository: "o/r",
  });
  assert.match(notes, /  by @a\n  merged 2026-01-01\n$/);
});
