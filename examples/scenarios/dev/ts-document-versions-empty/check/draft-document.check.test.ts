import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/documents/[id]/route";

const get = (id: string) => GET(new Request(`http://localhost/api/documents/${id}`), { params: Promise.resolve({ id }) });

test("a never-published draft has no latest version", async () => {
  const response = await get("doc_2");
  assert.equal(response.status, 200);
  const body = (await response.json()) as { latest?: unknown; versions: number };
  assert.equal(body.versions, 0);
  assert.ok(body.latest === null || body.latest === undefined);
});

test("a published document reports its latest version", async () => {
  const body = (await (await get("doc_1")).json()) as { latest: { number: number; author: string } };
  assert.deepEqual([body.latest.number, body.latest.author], [2, "omar"]);
});
