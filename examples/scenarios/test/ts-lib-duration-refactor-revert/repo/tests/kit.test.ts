import assert from "node:assert/strict";
import { test } from "node:test";

import { toCsv } from "../src/csv";
import { fromPounds } from "../src/money";
import { parseDuration } from "../src/units";

test("durations", () => {
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.throws(() => parseDuration("soon"), RangeError);
});

test("csv", () => {
  assert.equal(toCsv([{ a: 1, b: "x" }, { a: 2, b: "y" }]), "a,b\n1,x\n2,y");
});

test("money", () => {
  assert.equal(fromPounds(10, "EUR"), "11.70");
  assert.equal(fromPounds(10, "JPY"), "1824");
});
