import assert from "node:assert/strict";
import { test } from "node:test";

import { toCsv } from "../src/csv";

test("no rows is an empty string, as documented", () => {
  assert.equal(toCsv([]), "");
});

test("rows are unchanged", () => {
  assert.equal(toCsv([{ id: 7, name: "Kim" }]), "id,name\n7,Kim");
});
