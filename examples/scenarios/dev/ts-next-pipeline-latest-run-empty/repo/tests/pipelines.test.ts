import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/pipelines/[id]/latest-run/route";

const ctx = (id: string) => ({ params: Promise.resolve({ id }) });

test("the latest run of a pipeline", async () => {
  const response = await GET(new Request("http://localhost/api/pipelines/pl_web/latest-run"), ctx("pl_web"));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { number: 42, outcome: "passed", startedAt: "2025-07-21T09:30:00Z" });
});

test("an unknown pipeline is a 404", async () => {
  const response = await GET(new Request("http://localhost/api/pipelines/pl_x/latest-run"), ctx("pl_x"));
  assert.equal(response.status, 404);
});
