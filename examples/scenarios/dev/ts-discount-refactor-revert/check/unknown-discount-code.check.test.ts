import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/basket/price/route";

const price = (body: unknown) =>
  POST(new Request("http://localhost/api/basket/price", { method: "POST", body: JSON.stringify(body) }));

const lines = [{ sku: "HOSE-15", unitPence: 2000, quantity: 2 }];

test("an unknown or expired code prices the basket without a discount", async () => {
  const response = await price({ lines, code: "SPRING5" });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { subtotalPence: 4000, discountPence: 0, totalPence: 4000 });
});

test("known codes still apply", async () => {
  assert.equal(((await (await price({ lines, code: "welcome10" })).json()) as { totalPence: number }).totalPence, 3600);
});
