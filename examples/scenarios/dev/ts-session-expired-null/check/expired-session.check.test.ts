import assert from "node:assert/strict";
import { test } from "node:test";

import { PATCH } from "../src/app/api/projects/[id]/route";

const rename = (id: string, token: string) =>
  PATCH(
    new Request(`http://localhost/api/projects/${id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ title: "Renamed" }),
    }),
    { params: Promise.resolve({ id }) },
  );

test("an expired session is refused, not a server error", async () => {
  const response = await rename("prj_1", "tok_old");
  assert.ok(response.status === 401 || response.status === 403, `status ${response.status}`);
});

test("viewers are refused and editors allowed", async () => {
  assert.equal((await rename("prj_2", "tok_live")).status, 403);
  assert.equal((await rename("prj_1", "tok_live")).status, 200);
});
