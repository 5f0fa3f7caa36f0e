import assert from "node:assert/strict";
import { test } from "node:test";

import { toGrams } from "../src/grams";

test("kilograms and tonnes in grams", () => {
  assert.equal(toGrams(2, "kg"), 2000);
  assert.equal(toGrams(1, "t"), 1_000_000);
});
