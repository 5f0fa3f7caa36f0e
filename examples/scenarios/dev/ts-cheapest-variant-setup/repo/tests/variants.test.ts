import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/products/[sku]/cheapest/route";

const cheapest = (sku: string) =>
  GET(new Request(`http://localhost/api/products/${sku}/cheapest`), { params: Promise.resolve({ sku }) });

test("the cheapest variant that is in stock", async () => {
  assert.deepEqual(await (await cheapest("HOODIE-ZIP")).json(), { sku: "HOODIE-ZIP", variant: "HOODIE-ZIP-L", pricePence: 3900 });
});

test("out-of-stock variants are skipped", async () => {
  assert.equal(((await (await cheapest("TEE-BASIC")).json()) as { variant: string }).variant, "TEE-BASIC-S");
});

test("unknown products are 404", async () => {
  assert.equal((await cheapest("NOPE")).status, 404);
});
