import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { fakeReq, fakeRes } from "../src/http";
import * as rentals from "../src/routes/rentals";

test("a listing without reviews follows the router's 404 { error }", () => {
  const res = fakeRes();
  rentals.latestReview(fakeReq({ params: { id: "lst_10" } }), res);
  assert.equal(res.statusCode, 404);
  const body = res.body as { error?: unknown };
  assert.equal(typeof body.error, "string");
});

test("the latest review is unchanged", () => {
  const res = fakeRes();
  rentals.latestReview(fakeReq({ params: { id: "lst_9" } }), res);
  assert.deepEqual(res.body, { rating: 5, text: "Lovely" });
});
