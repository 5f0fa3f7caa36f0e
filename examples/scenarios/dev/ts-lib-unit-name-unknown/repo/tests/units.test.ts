import assert from "node:assert/strict";
import { test } from "node:test";

import { knownUnits, unitName } from "../src/units";

test("a unit's name agrees with the amount", () => {
  assert.equal(unitName("kg", 1), "kilogram");
  assert.equal(unitName("l", 3), "litres");
});

test("the known units are listed in order", () => {
  assert.deepEqual(knownUnits(), ["kg", "l"]);
});
