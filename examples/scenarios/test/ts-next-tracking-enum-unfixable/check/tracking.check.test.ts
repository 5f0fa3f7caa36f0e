import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/shipments/[id]/tracking/route";

const get = (id: string) => GET(new Request(`http://localhost/api/shipments/${id}/tracking`), { params: Promise.resolve({ id }) });

test("a shipment held at customs reads the carrier's new status", async () => {
  const response = await get("shp_8140");
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.status, "HELD_AT_CUSTOMS");
  assert.deepEqual(body.events[0], { status: "HELD_AT_CUSTOMS", at: "2026-12-01T14:05:00.000Z", location: "Calais" });
  assert.equal(body.events.length, 3);
});

test("other shipments are unchanged", async () => {
  const body = await (await get("shp_8102")).json();
  assert.deepEqual(body, {
    shipmentId: "shp_8102",
    trackingNumber: "CX100200301GB",
    status: "LABEL_CREATED",
    events: [{ status: "LABEL_CREATED", at: "2026-11-29T10:00:00.000Z", location: "Leeds" }],
  });
});
