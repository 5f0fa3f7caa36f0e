import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/pipelines/[id]/latest-run/route";

const ctx = (id: string) => ({ params: Promise.resolve({ id }) });

test("a pipeline that never ran has no latest run: the route's own 404 shape", async () => {
  const response = await GET(new Request("http://localhost/api/pipelines/pl_docs/latest-run"), ctx("pl_docs"));
  assert.equal(response.status, 404);
  const body = (await response.json()) as { error?: unknown };
  assert.equal(typeof body.error, "string");
});

test("the latest run and the unknown pipeline are unchanged", async () => {
  const ok = await GET(new Request("http://localhost/api/pipelines/pl_web/latest-run"), ctx("pl_web"));
  assert.deepEqual(await ok.json(), { number: 42, outcome: "passed", startedAt: "2025-07-21T09:30:00Z" });
  const missing = await GET(new Request("http://localhost/api/pipelines/pl_x/latest-run"), ctx("pl_x"));
  assert.deepEqual(await missing.json(), { error: "Pipeline not found" });
});
