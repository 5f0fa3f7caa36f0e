import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/polls/[id]/turnout/route";

const context = (id: string) => ({ params: Promise.resolve({ id }) });

test("a poll nobody has voted in yet has no mean weight (null, as its Turnout type allows)", async () => {
  const response = await GET(new Request("http://localhost/api/polls/pl_2/turnout"), context("pl_2"));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ballots: 0, meanWeight: null, closed: false });
});

test("a poll with ballots keeps its mean weight", async () => {
  const response = await GET(new Request("http://localhost/api/polls/pl_1/turnout"), context("pl_1"));
  assert.deepEqual(await response.json(), { ballots: 3, meanWeight: 1666, closed: true });
});

test("an unknown poll is still a 404", async () => {
  const response = await GET(new Request("http://localhost/api/polls/pl_9/turnout"), context("pl_9"));
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: "Poll not found" });
});
