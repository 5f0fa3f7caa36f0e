import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { fakeReq, fakeRes } from "../src/http";
import * as rentals from "../src/routes/rentals";

const sign = (body: unknown) => "sha256=" + createHmac("sha256", "whsec_test").update(JSON.stringify(body)).digest("hex");

test("a webhook without a signature header is the handler's own 401", () => {
  const res = fakeRes();
  rentals.paymentWebhook(fakeReq({ body: { id: "evt_1" } }), res);
  assert.equal(res.statusCode, 401);
  assert.deepEqual(res.body, { error: "bad signature" });
});

test("a signed webhook is still received", () => {
  const res = fakeRes();
  rentals.paymentWebhook(fakeReq({ body: { id: "evt_2" }, headers: { "x-signature": sign({ id: "evt_2" }) } }), res);
  assert.deepEqual(res.body, { received: true });
});
