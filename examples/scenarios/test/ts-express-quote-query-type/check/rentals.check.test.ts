import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { fakeReq, fakeRes } from "../src/http";
import * as rentals from "../src/routes/rentals";

test("nights from the query string are a number", () => {
  const res = fakeRes();
  rentals.quote(fakeReq({ params: { id: "lst_9" }, query: { nights: "3" } }), res);
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.body, { totalPence: 25500, nights: "3" });
});

test("one night by default", () => {
  const res = fakeRes();
  rentals.quote(fakeReq({ params: { id: "lst_10" } }), res);
  assert.deepEqual(res.body, { totalPence: 12000, nights: "1" });
});
