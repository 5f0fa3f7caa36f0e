import assert from "node:assert/strict";
import { test } from "node:test";

import { headerLine } from "../src/table";

test("a table without rows has an empty header line (a string, as its type says)", () => {
  assert.equal(headerLine([], " | "), "");
});

test("a table with rows keeps its header", () => {
  assert.equal(headerLine([{ day: "mon", visits: 3 }], ";"), "DAY;VISITS");
});
