import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/products/route";

test("a search without a tags parameter returns every matching product", async () => {
  const response = await GET(new Request("http://localhost/api/products?q=tent"));
  assert.equal(response.status, 200);
  const body = (await response.json()) as { results: { sku: string }[] };
  assert.deepEqual(body.results.map((p) => p.sku), ["TENT-2P"]);
});

test("a bare listing works too", async () => {
  const response = await GET(new Request("http://localhost/api/products"));
  assert.equal(((await response.json()) as { count: number }).count, 4);
});
