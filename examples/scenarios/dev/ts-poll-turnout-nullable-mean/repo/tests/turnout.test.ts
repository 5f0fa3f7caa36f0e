import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/polls/[id]/turnout/route";

const context = (id: string) => ({ params: Promise.resolve({ id }) });

test("turnout of a closed poll: its ballots and their mean weight", async () => {
  const response = await GET(new Request("http://localhost/api/polls/pl_1/turnout"), context("pl_1"));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ballots: 3, meanWeight: 1666, closed: true });
});

test("an unknown poll is a 404", async () => {
  const response = await GET(new Request("http://localhost/api/polls/pl_9/turnout"), context("pl_9"));
  assert.equal(response.status, 404);
});
