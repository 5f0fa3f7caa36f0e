import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/products/[sku]/cheapest/route";

const cheapest = (sku: string) =>
  GET(new Request(`http://localhost/api/products/${sku}/cheapest`), { params: Promise.resolve({ sku }) });

test("a sold-out product answers without a server error", async () => {
  const response = await cheapest("SCARF-WOOL");
  assert.ok(response.status === 200 || response.status === 404, `status ${response.status}`);
  if (response.status === 200) {
    assert.equal(((await response.json()) as { variant?: unknown }).variant ?? null, null);
  }
});

test("products in stock still get their cheapest variant", async () => {
  assert.equal(((await (await cheapest("TEE-BASIC")).json()) as { pricePence: number }).pricePence, 1200);
});
