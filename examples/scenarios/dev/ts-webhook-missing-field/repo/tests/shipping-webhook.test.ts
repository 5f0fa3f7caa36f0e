import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/webhooks/shipping/route";

const deliver = (body: unknown) =>
  POST(new Request("http://localhost/api/webhooks/shipping", { method: "POST", body: JSON.stringify(body) }));

test("an in-transit event moves the order to in_transit", async () => {
  const response = await deliver({
    type: "shipment.in_transit",
    data: { order_reference: "ord_1", tracking: { carrier: "dpd", url: "https://track.example/1" } },
  });
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { status: string }).status, "in_transit");
});

test("unknown event types are acknowledged and ignored", async () => {
  const response = await deliver({ type: "invoice.paid", data: { order_reference: "ord_1" } });
  assert.equal(response.status, 202);
});
