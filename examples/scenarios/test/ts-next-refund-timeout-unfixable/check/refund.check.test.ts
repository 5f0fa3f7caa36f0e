import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/refunds/route";

test("a slow provider refund waits long enough", async () => {
  const response = await POST(new Request("http://localhost/api/refunds", { method: "POST", body: JSON.stringify({ chargeId: "ch_slow_3" }) }));
  assert.equal(response.status, 200);
});
