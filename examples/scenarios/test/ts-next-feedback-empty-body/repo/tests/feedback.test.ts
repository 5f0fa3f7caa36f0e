import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/feedback/route";
import { GET as summary } from "../src/app/api/feedback/summary/route";

const post = (body: unknown) =>
  POST(new Request("http://localhost/api/feedback", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } }));

test("feedback is saved", async () => {
  const response = await post({ page: "/docs/billing", rating: 4, comment: "  Clear enough  " });
  assert.equal(response.status, 201);
  assert.match((await response.json()).id, /^fb_\d{4}$/);
});

test("a rating out of range is a 400", async () => {
  const response = await post({ page: "/docs/billing", rating: 9 });
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), { error: "rating must be a whole number from 1 to 5" });
});

test("a page that is not a path is a 400", async () => {
  assert.equal((await post({ page: "docs", rating: 3 })).status, 400);
});

test("the summary averages a page's ratings", async () => {
  await post({ page: "/docs/sso", rating: 2 });
  await post({ page: "/docs/sso", rating: 5 });
  const body = await (await summary(new Request("http://localhost/api/feedback/summary?page=/docs/sso"))).json();
  assert.deepEqual(body, { page: "/docs/sso", count: 2, average: 3.5 });
});
