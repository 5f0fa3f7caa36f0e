import assert from "node:assert/strict";
import { test } from "node:test";

import { bodyLines, headerLine } from "../src/table";

const rows = [
  { region: "north", orders: 12 },
  { region: "south", orders: 7 },
];

test("the header line names the columns", () => {
  assert.equal(headerLine(rows, " | "), "REGION | ORDERS");
});

test("one body line per row", () => {
  assert.deepEqual(bodyLines(rows, ","), ["north,12", "south,7"]);
});
