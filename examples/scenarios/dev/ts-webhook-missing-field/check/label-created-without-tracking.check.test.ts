import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/webhooks/shipping/route";

const deliver = (body: unknown) =>
  POST(new Request("http://localhost/api/webhooks/shipping", { method: "POST", body: JSON.stringify(body) }));

test("a label.created event without tracking is accepted", async () => {
  const response = await deliver({ type: "label.created", data: { order_reference: "ord_2" } });
  assert.ok(response.status < 300, `status ${response.status}`);
});

test("tracking details are still stored when present", async () => {
  const response = await deliver({
    type: "shipment.delivered",
    data: { order_reference: "ord_3", tracking: { carrier: "royal-mail", url: "https://track.example/3" } },
  });
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { carrier: string }).carrier, "ROYAL-MAIL");
});
