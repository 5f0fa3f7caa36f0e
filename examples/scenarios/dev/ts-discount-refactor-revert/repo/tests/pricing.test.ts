import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/basket/price/route";

const price = async (body: unknown) =>
  (await POST(new Request("http://localhost/api/basket/price", { method: "POST", body: JSON.stringify(body) }))).json();

const lines = [
  { sku: "SEED-TOM", unitPence: 250, quantity: 4 },
  { sku: "TROWEL", unitPence: 1500, quantity: 1 },
];

test("no code, no discount", async () => {
  assert.deepEqual(await price({ lines }), { subtotalPence: 2500, discountPence: 0, totalPence: 2500 });
});

test("a valid code takes its percentage off", async () => {
  assert.deepEqual(await price({ lines, code: "summer25" }), { subtotalPence: 2500, discountPence: 625, totalPence: 1875 });
});
