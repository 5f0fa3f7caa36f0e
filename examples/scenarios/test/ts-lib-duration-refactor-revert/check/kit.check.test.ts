import assert from "node:assert/strict";
import { test } from "node:test";

import { parseDuration } from "../src/units";

test("a space between amount and unit is still accepted", () => {
  assert.equal(parseDuration("5 m"), 300_000);
  assert.equal(parseDuration("15 s"), 15_000);
});

test("the rest is unchanged", () => {
  assert.equal(parseDuration("250ms"), 250);
  assert.throws(() => parseDuration("later"), RangeError);
});
