import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/feedback/route";

const send = (body?: string) =>
  POST(new Request("http://localhost/api/feedback", { method: "POST", body, headers: { "content-type": "application/json" } }));

for (const [label, body] of [
  ["no body", undefined],
  ["an empty body", ""],
  ["a body that is not JSON", "rating=5&page=%2Fdocs"],
  ["truncated JSON", '{"page": "/docs/billing", "rating": 5'],
] as const) {
  test(`${label} is the route's 400 { error }`, async () => {
    const response = await send(body);
    assert.equal(response.status, 400);
    const json = await response.json();
    assert.deepEqual(Object.keys(json), ["error"]);
    assert.equal(typeof json.error, "string");
    assert.ok(json.error.length > 0);
  });
}

test("valid feedback is still saved", async () => {
  const response = await send(JSON.stringify({ page: "/docs/billing", rating: 5 }));
  assert.equal(response.status, 201);
});
