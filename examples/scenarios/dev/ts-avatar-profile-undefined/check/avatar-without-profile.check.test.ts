import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/me/avatar/route";

const asUser = (id: string) => new Request("http://localhost/api/me/avatar", { headers: { "x-user-id": id } });

test("a user without a profile gets a placeholder, not an error", async () => {
  const response = await GET(asUser("usr_2"));
  assert.equal(response.status, 200);
  const body = (await response.json()) as { url: string | null; initials: string };
  assert.equal(body.url, null);
});

test("a user with a profile keeps their avatar", async () => {
  const body = (await (await GET(asUser("usr_1"))).json()) as { url: string };
  assert.equal(body.url, "https://cdn.community.example/avatars/a/ada.png");
});
