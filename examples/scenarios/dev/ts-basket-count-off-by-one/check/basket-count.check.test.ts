import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/cart/count/route";

const count = async (cart: string) => {
  const response = await GET(new Request(`http://localhost/api/cart/count?cart=${cart}`));
  assert.equal(response.status, 200);
  return ((await response.json()) as { count: number }).count;
};

test("the badge counts every line, capping each at 9", async () => {
  assert.equal(await count("cart_a"), 2 + 1 + 9);
});

test("an empty cart counts zero", async () => {
  assert.equal(await count("cart_empty"), 0);
});
