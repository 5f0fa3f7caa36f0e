import assert from "node:assert/strict";
import { test } from "node:test";

import { parseWeight } from "../src/weights";

test("weights written without a space or in capitals still parse", () => {
  assert.equal(parseWeight("2kg"), 2000);
  assert.equal(parseWeight("1.5 KG"), 1500);
  assert.equal(parseWeight("250 g"), 250);
});

test("text that is no weight is still refused", () => {
  assert.throws(() => parseWeight("heavy"), RangeError);
});
