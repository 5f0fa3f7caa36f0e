import assert from "node:assert/strict";
import { test } from "node:test";

import { PATCH } from "../src/app/api/projects/[id]/route";

const rename = (id: string, token: string, title: string) =>
  PATCH(
    new Request(`http://localhost/api/projects/${id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ title }),
    }),
    { params: Promise.resolve({ id }) },
  );

test("an editor can rename a project", async () => {
  const response = await rename("prj_1", "tok_live", "Relaunch v2");
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { title: string }).title, "Relaunch v2");
});
