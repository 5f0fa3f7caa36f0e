import assert from "node:assert/strict";
import { test } from "node:test";

const ctx = (id: string) => ({ params: Promise.resolve({ id }) });

import { GET } from "../src/app/api/events/[id]/sales/route";

test("an event with no sales has a null average, as its Sales type allows", async () => {
  const response = await GET(new Request("http://localhost/api/events/evt_2/sales"), ctx("evt_2"));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { sold: 0, averagePence: null });
});

test("sales are unchanged", async () => {
  const response = await GET(new Request("http://localhost/api/events/evt_1/sales"), ctx("evt_1"));
  assert.deepEqual(await response.json(), { sold: 3, averagePence: 2266 });
});
