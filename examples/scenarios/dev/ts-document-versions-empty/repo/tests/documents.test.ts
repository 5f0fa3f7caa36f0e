import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/documents/[id]/route";

const get = (id: string) => GET(new Request(`http://localhost/api/documents/${id}`), { params: Promise.resolve({ id }) });

test("a document reports its title", async () => {
  const body = (await (await get("doc_1")).json()) as { title: string };
  assert.equal(body.title, "Onboarding handbook");
});

test("an unknown document is 404", async () => {
  assert.equal((await get("doc_9")).status, 404);
});
