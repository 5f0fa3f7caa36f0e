import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/stats/merchants/[id]/route";

const statsFor = async (id: string) =>
  (await GET(new Request(`http://localhost/api/stats/merchants/${id}`), { params: Promise.resolve({ id }) })).json();

test("gross and refunded totals per merchant", async () => {
  const body = (await statsFor("m_1")) as Record<string, unknown>;
  assert.equal(body.orders, 3);
  assert.equal(body.grossMinor, "24000");
  assert.equal(body.refundedMinor, "4000");
});
