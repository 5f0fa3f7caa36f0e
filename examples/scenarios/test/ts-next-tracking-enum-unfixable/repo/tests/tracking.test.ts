import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/shipments/[id]/tracking/route";
import { fetchTracking } from "../src/lib/carrier";

const get = (id: string) => GET(new Request(`http://localhost/api/shipments/${id}/tracking`), { params: Promise.resolve({ id }) });

test("a delivered shipment, latest event first", async () => {
  const body = await (await get("shp_8101")).json();
  assert.equal(body.status, "DELIVERED");
  assert.deepEqual(body.events[0], { status: "DELIVERED", at: "2026-11-28T12:15:00.000Z", location: "Salford" });
  assert.equal(body.events.length, 3);
});

test("an unknown shipment is a 404", async () => {
  const response = await get("shp_0000");
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: "Shipment not found" });
});

test("a shipment the carrier does not know yet is a 404", async () => {
  assert.equal((await get("shp_8150")).status, 404);
});

test("the client reads the carrier's JSON mapping", async () => {
  const tracking = await fetchTracking("X1", async () => ({ trackingNumber: "X1", events: [{ status: 2, location: "Hub" }] }));
  assert.deepEqual(tracking, { trackingNumber: "X1", events: [{ status: 2, occurredAt: undefined, location: "Hub" }] });
});
