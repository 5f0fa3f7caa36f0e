import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/refunds/route";

test("a refund", async () => {
  const response = await POST(new Request("http://localhost/api/refunds", { method: "POST", body: JSON.stringify({ chargeId: "ch_1" }) }));
  assert.deepEqual(await response.json(), { id: "re_ch_1", status: "succeeded" });
});
