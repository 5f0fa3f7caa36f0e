import assert from "node:assert/strict";
import { test } from "node:test";

const ctx = (id: string) => ({ params: Promise.resolve({ id }) });

import { GET } from "../src/app/api/events/[id]/route";

test("an unknown event is a 404 { error: 'Event not found' }", async () => {
  const response = await GET(new Request("http://localhost/api/events/evt_404"), ctx("evt_404"));
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: "Event not found" });
});

test("a known event is unchanged", async () => {
  const response = await GET(new Request("http://localhost/api/events/evt_2"), ctx("evt_2"));
  assert.deepEqual(await response.json(), { id: "evt_2", title: "Poetry Slam", venue: "Old Library", city: "Bath" });
});
