import assert from "node:assert/strict";
import { test } from "node:test";

import { addressLine } from "../src/labels";

test("a customer with no address on file gets no line (a string, as its type says)", () => {
  assert.equal(addressLine("cus_404"), "");
});

test("customers with an address keep their line", () => {
  assert.equal(addressLine("cus_2"), "69001 Lyon");
});
