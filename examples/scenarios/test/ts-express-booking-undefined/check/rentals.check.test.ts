import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { fakeReq, fakeRes } from "../src/http";
import * as rentals from "../src/routes/rentals";

test("an unknown booking is the router's 404 { error }", () => {
  const res = fakeRes();
  rentals.getBooking(fakeReq({ params: { id: "bk_404" } }), res);
  assert.equal(res.statusCode, 404);
  assert.deepEqual(res.body, { error: "booking not found" });
});

test("a known booking is unchanged", () => {
  const res = fakeRes();
  rentals.getBooking(fakeReq({ params: { id: "bk_1" } }), res);
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.body, { id: "bk_1", guest: "R. Ahmed", nights: 3 });
});
