import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/me/avatar/route";
import { initials } from "../src/lib/avatar";

const asUser = (id?: string) =>
  new Request("http://localhost/api/me/avatar", { headers: id ? { "x-user-id": id } : {} });

test("initials take the first letter of up to two words", () => {
  assert.equal(initials("ada lovelace byron"), "AL");
});

test("a signed-in user gets their avatar url", async () => {
  const response = await GET(asUser("usr_1"));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { url: "https://cdn.community.example/avatars/a/ada.png", initials: "A" });
});

test("anonymous requests are 401", async () => {
  assert.equal((await GET(asUser())).status, 401);
});
