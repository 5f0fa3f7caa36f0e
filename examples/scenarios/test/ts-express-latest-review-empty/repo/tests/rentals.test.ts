import assert from "node:assert/strict";
import { test } from "node:test";

import { fakeReq, fakeRes } from "../src/http";
import { getBooking, getListing, latestReview } from "../src/routes/rentals";

test("a booking", () => {
  const res = fakeRes();
  getBooking(fakeReq({ params: { id: "bk_1" } }), res);
  assert.deepEqual(res.body, { id: "bk_1", guest: "R. Ahmed", nights: 3 });
});

test("an unknown listing is a 404", () => {
  const res = fakeRes();
  getListing(fakeReq({ params: { id: "lst_0" } }), res);
  assert.equal(res.statusCode, 404);
});

test("the latest review", () => {
  const res = fakeRes();
  latestReview(fakeReq({ params: { id: "lst_9" } }), res);
  assert.deepEqual(res.body, { rating: 5, text: "Lovely" });
});
