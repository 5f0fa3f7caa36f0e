import assert from "node:assert/strict";
import { test } from "node:test";

import { POST } from "../src/app/api/lunch/vote/route";

const post = (voter: string, body: string, contentType = "application/json") =>
  POST(
    new Request("http://localhost/api/lunch/vote", {
      method: "POST",
      headers: { "content-type": contentType, "x-voter": voter },
      body,
    }),
  );

const assertRouteOwn400 = async (response: Response) => {
  assert.equal(response.status, 400);
  const body = (await response.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ["error"], "the route's own 400 shape: { error }");
  assert.equal(typeof body.error, "string");
  assert.ok((body.error as string).length > 0);
};

test("an empty body is bad input: the route's own 400 { error }, not a 500", async () => {
  await assertRouteOwn400(await post("cleo", ""));
});

test("a body that is not JSON (an old form post) is bad input too", async () => {
  await assertRouteOwn400(await post("dev", "choice=pizza", "application/x-www-form-urlencoded"));
});

test("a valid vote still counts and a JSON body without a choice keeps its message", async () => {
  const response = await post("eli", JSON.stringify({ choice: "salad" }));
  assert.equal(response.status, 200);
  const body = (await response.json()) as { poll: string; voter: string; choice: string; tally: Record<string, number> };
  assert.equal(body.poll, "lunch-2025-07-22");
  assert.equal(body.voter, "eli");
  assert.equal(body.choice, "salad");
  assert.equal(body.tally.salad, 1);
  const missing = await post("fay", JSON.stringify({}));
  assert.equal(missing.status, 400);
  assert.deepEqual(await missing.json(), { error: "choice is required" });
});
