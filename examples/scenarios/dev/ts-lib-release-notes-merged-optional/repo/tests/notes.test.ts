import assert from "node:assert/strict";
import { test } from "node:test";

import { releaseNotes } from "../src/notes";

test("every merged change is listed under the release heading", () => {
  const notes = releaseNotes(
    "2.4.0",
    [
      { title: "Faster search", pr: 412, author: "mina", mergedAt: "2026-03-02T10:00:00Z", labels: ["perf"] },
      { title: "Fix footer typo", pr: 398, mergedAt: "2026-02-27T16:45:00Z" },
    ],
    new Date("2026-03-04T09:00:00Z"),
    { repository: "acme/shop" },
  );
  assert.equal(
    notes,
    [
      "## Release 2.4.0 (2026-03-04)",
      "",
      "- Faster search ([#412](https://github.com/acme/shop/pull/412))",
      "  by @mina",
      "  merged 2026-03-02",
      "  labels: perf",
      "- Fix footer typo ([#398](https://github.com/acme/shop/pull/398))",
      "  merged 2026-02-27",
      "",
    ].join("\n"),
  );
});
