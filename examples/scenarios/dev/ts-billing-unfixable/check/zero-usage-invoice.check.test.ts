import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/billing/route";

test("a zero-usage invoice has no lines and a zero total", async () => {
  const response = await GET(new Request("http://localhost/api/billing", { headers: { "x-account-id": "acct_2" } }));
  assert.equal(response.status, 200);
  const body = (await response.json()) as { totalCents: number; lines: unknown[] };
  assert.deepEqual([body.lines.length, body.totalCents], [0, 0]);
});
