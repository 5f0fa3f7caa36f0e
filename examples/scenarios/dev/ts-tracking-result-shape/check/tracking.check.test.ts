import assert from "node:assert/strict";
import { test } from "node:test";

import { getTracking } from "../src/handlers/orders";

test("an order not shipped yet is the handler's own 404 result shape", async () => {
  const result = await getTracking({ params: { id: "ord_1002" }, query: {} });
  assert.ok(result && typeof result === "object", "a { status, body } result, not null");
  assert.equal(result.status, 404);
  const body = result.body as { error?: unknown };
  assert.equal(typeof body.error, "string");
});

test("an unknown order is still a 404", async () => {
  const result = await getTracking({ params: { id: "ord_404" }, query: {} });
  assert.deepEqual(result, { status: 404, body: { error: "order not found" } });
});

test("a shipped order is unchanged", async () => {
  const result = await getTracking({ params: { id: "ord_1001" }, query: {} });
  assert.deepEqual(result, { status: 200, body: { orderId: "ord_1001", carrier: "DPD", eta: "2025-06-24" } });
});
