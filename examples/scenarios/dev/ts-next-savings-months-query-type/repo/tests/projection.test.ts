import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/projection/route";

test("the default projection is a year of the basic plan", async () => {
  const response = await GET(new Request("http://localhost/api/projection"));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { plan: "basic", months: "12", projectedPence: 30000 });
});

test("an unknown plan is a 404", async () => {
  const response = await GET(new Request("http://localhost/api/projection?plan=gold"));
  assert.equal(response.status, 404);
});
