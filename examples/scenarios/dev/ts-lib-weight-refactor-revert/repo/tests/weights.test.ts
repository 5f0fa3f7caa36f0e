import assert from "node:assert/strict";
import { test } from "node:test";

import { parseWeight, totalGrams } from "../src/weights";

test("grams and kilograms", () => {
  assert.equal(parseWeight("250 g"), 250);
  assert.equal(parseWeight("1 kg"), 1000);
});

test("a packing list adds up", () => {
  assert.equal(totalGrams(["250 g", "1 kg"]), 1250);
});

test("text that is no weight is refused", () => {
  assert.throws(() => parseWeight("heavy"), RangeError);
});
