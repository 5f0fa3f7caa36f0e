import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/lunch/vote/route";

const vote = (voter: string, body: unknown) =>
  POST(
    new Request("http://localhost/api/lunch/vote", {
      method: "POST",
      headers: { "content-type": "application/json", "x-voter": voter },
      body: JSON.stringify(body),
    }),
  );

test("a vote is counted in today's tally", async () => {
  const response = await vote("ana", { choice: "Thai" });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { choice: string; tally: Record<string, number> };
  assert.equal(body.choice, "thai");
  assert.equal(body.tally.thai, 1);
});

test("a vote without a choice is refused", async () => {
  const response = await vote("ben", { choice: " " });
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), { error: "choice is required" });
});

test("an option that is not on today's poll is refused", async () => {
  const response = await vote("ben", { choice: "sushi" });
  assert.equal(response.status, 400);
});
