import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/orders/[id]/points/route";
import * as loyalty from "../src/lib/loyalty";

const points = (id: string) =>
  GET(new Request(`http://localhost/api/orders/${id}/points`), { params: Promise.resolve({ id }) });

test("an order's points use the renamed function", async () => {
  const response = await points("ord_501");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { orderId: "ord_501", points: 18 });
});

test("an order under a pound earns nothing", async () => {
  assert.deepEqual(await (await points("ord_503")).json(), { orderId: "ord_503", points: 0 });
});

test("members' day still doubles", async () => {
  assert.deepEqual(await (await points("ord_502")).json(), { orderId: "ord_502", points: 12 });
});

test("an unknown order is still a 404", async () => {
  const response = await points("ord_999");
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: "Order not found" });
});

test("the rename stays", () => {
  assert.equal(loyalty.pointsEarned(250), 2);
  assert.equal("pointsFor" in loyalty, false);
});
