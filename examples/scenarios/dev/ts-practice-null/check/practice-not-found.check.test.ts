import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/practices/[id]/route";

const call = (id: string) =>
  GET(new Request(`http://localhost/api/practices/${id}`), { params: Promise.resolve({ id }) });

test("an unknown practice is a 404 'Practice not found'", async () => {
  const response = await call("prc_404");
  assert.equal(response.status, 404);
  const body = (await response.json()) as { error?: string; message?: string };
  assert.match(String(body.error ?? body.message), /practice not found/i);
});

test("a known practice still has its details", async () => {
  const response = await call("prc_101");
  assert.equal(response.status, 200);
  const body = (await response.json()) as { city: string; phone: string };
  assert.equal(body.city, "York");
  assert.equal(body.phone, "01904 496 111");
});
