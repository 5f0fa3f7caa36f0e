import assert from "node:assert/strict";
import { test } from "node:test";

import { unitName } from "../src/units";

test("a unit code the table does not know has no name (a string, as its type says)", () => {
  assert.equal(unitName("lb", 2), "");
  assert.equal(unitName("oz", 1), "");
});

test("known units keep their names", () => {
  assert.equal(unitName("kg", 2), "kilograms");
  assert.equal(unitName("l", 1), "litre");
});
