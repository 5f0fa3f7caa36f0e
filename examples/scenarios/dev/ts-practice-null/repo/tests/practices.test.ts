import assert from "node:assert/strict";
import { test } from "node:test";

import { GET as listPractices } from "../src/app/api/practices/route";

test("lists practices sorted by name", async () => {
  const response = await listPractices();
  assert.equal(response.status, 200);
  const body = (await response.json()) as { name: string }[];
  assert.deepEqual(
    body.map((p) => p.name),
    ["Northgate Family Clinic", "Riverside Health"],
  );
});
