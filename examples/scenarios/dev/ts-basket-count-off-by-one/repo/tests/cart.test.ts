import assert from "node:assert/strict";
import { test } from "node:test";

import { cartItems, cartTotalPence } from "../src/lib/cart";

test("cart total multiplies quantity by unit price", () => {
  assert.equal(cartTotalPence(cartItems("cart_a")), 2 * 165 + 140 + 30 * 325);
});

test("an unknown cart is empty", () => {
  assert.deepEqual(cartItems("nope"), []);
});
