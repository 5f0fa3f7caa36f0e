import assert from "node:assert/strict";
import { test } from "node:test";

import { toGrams, UnknownUnitError } from "../src/grams";

test("a unit the table does not know throws the module's own UnknownUnitError, as documented", () => {
  assert.throws(() => toGrams(3, "lb"), UnknownUnitError);
});

test("known units still convert", () => {
  assert.equal(toGrams(250, "g"), 250);
});
