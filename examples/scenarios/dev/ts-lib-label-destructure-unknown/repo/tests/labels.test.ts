import assert from "node:assert/strict";
import { test } from "node:test";

import { addressLine, customersWithAddress } from "../src/labels";

test("the address line puts the zip first", () => {
  assert.equal(addressLine("cus_1"), "10115 Berlin");
});

test("two customers have an address", () => {
  assert.equal(customersWithAddress(), 2);
});
