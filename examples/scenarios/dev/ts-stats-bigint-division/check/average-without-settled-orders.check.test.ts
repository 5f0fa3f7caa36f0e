import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/stats/merchants/[id]/route";

const statsFor = (id: string) =>
  GET(new Request(`http://localhost/api/stats/merchants/${id}`), { params: Promise.resolve({ id }) });

test("a merchant whose orders were all refunded still gets stats", async () => {
  const response = await statsFor("m_2");
  assert.equal(response.status, 200);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body.refundedMinor, "99900");
  assert.ok(body.averageSettledMinor === "0" || body.averageSettledMinor === null);
});

test("the average of settled orders is unchanged", async () => {
  const body = (await (await statsFor("m_1")).json()) as Record<string, unknown>;
  assert.equal(body.averageSettledMinor, "10000");
});
