import assert from "node:assert/strict";
import { test } from "node:test";

import { getOrder } from "../src/handlers/orders";

test("an order by id", async () => {
  assert.deepEqual(await getOrder({ params: { id: "ord_1001" }, query: {} }), {
    status: 200,
    body: { id: "ord_1001", customerId: "cus_1" },
  });
});

test("an unknown order is a 404 result", async () => {
  assert.deepEqual(await getOrder({ params: { id: "ord_9" }, query: {} }), { status: 404, body: { error: "order not found" } });
});
