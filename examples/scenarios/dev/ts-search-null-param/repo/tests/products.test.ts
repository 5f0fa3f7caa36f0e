import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/products/route";

const get = async (qs: string) =>
  (await (await GET(new Request(`http://localhost/api/products?${qs}`))).json()) as { count: number; results: { sku: string }[] };

test("filters by name and tags", async () => {
  const body = await get("q=o&tags=hiking");
  assert.deepEqual(body.results.map((p) => p.sku), ["BOOT-W", "POLE-2"]);
});

test("limit caps the results", async () => {
  assert.equal((await get("q=&tags=camping&limit=1")).count, 1);
});
