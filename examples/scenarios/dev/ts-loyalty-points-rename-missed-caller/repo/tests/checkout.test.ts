import assert from "node:assert/strict";
import { test } from "node:test";

import { summarise } from "../src/lib/checkout";

const basket = { lines: [{ sku: "SOURDOUGH", unitPence: 450, quantity: 2 }, { sku: "BUN", unitPence: 120, quantity: 3 }] };

test("a basket earns a point per whole pound", () => {
  assert.deepEqual(summarise(basket), { totalPence: 1260, points: 12 });
});

test("members' day doubles the points", () => {
  assert.deepEqual(summarise(basket, true), { totalPence: 1260, points: 24 });
});
