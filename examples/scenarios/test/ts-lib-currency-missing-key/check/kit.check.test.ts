import assert from "node:assert/strict";
import { test } from "node:test";

import { UnsupportedCurrencyError, fromPounds } from "../src/money";

test("a currency without a rate throws the module's own UnsupportedCurrencyError", () => {
  assert.throws(() => fromPounds(10, "CHF"), (err: unknown) => err instanceof UnsupportedCurrencyError && err.currency === "CHF");
});

test("known currencies are unchanged", () => {
  assert.equal(fromPounds(2, "GBP"), "2.00");
  assert.equal(fromPounds(1, "JPY"), "182");
});
