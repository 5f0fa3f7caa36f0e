import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/billing/route";

test("the latest invoice is itemised with a total", async () => {
  const response = await GET(new Request("http://localhost/api/billing", { headers: { "x-account-id": "acct_1" } }));
  assert.equal(response.status, 200);
  const body = (await response.json()) as { totalCents: number; lines: unknown[] };
  assert.equal(body.lines.length, 2);
  assert.equal(body.totalCents, 12 * 900 + 340 * 2);
});
