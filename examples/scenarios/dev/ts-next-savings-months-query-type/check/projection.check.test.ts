import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/projection/route";

test("months from the query string are parsed as a number", async () => {
  const response = await GET(new Request("http://localhost/api/projection?plan=plus&months=24"));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { plan: "plus", months: "24", projectedPence: 240000 });
});

test("months that are not a number are bad input: a 400 with an error", async () => {
  const response = await GET(new Request("http://localhost/api/projection?months=soon"));
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error?: unknown };
  assert.equal(typeof body.error, "string");
});

test("the default projection and the unknown plan are unchanged", async () => {
  const response = await GET(new Request("http://localhost/api/projection"));
  assert.deepEqual(await response.json(), { plan: "basic", months: "12", projectedPence: 30000 });
  assert.equal((await GET(new Request("http://localhost/api/projection?plan=gold"))).status, 404);
});
