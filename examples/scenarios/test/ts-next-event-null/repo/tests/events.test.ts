import assert from "node:assert/strict";
import { test } from "node:test";

import { GET as list } from "../src/app/api/events/route";
import { GET as detail } from "../src/app/api/events/[id]/route";
import { formatSeat } from "../src/lib/seats";

const ctx = (id: string) => ({ params: Promise.resolve({ id }) });

test("lists events", async () => {
  assert.deepEqual(await (await list()).json(), [{ id: "evt_1", title: "Jazz at Dusk" }]);
});

test("an event's details", async () => {
  const body = await (await detail(new Request("http://localhost/api/events/evt_1"), ctx("evt_1"))).json();
  assert.equal(body.venue, "The Crypt");
});

test("seat labels", () => {
  assert.equal(formatSeat("c", 7), "C-07");
});
