import assert from "node:assert/strict";
import { test } from "node:test";

const ctx = (id: string) => ({ params: Promise.resolve({ id }) });

import { GET } from "../src/app/api/seats/route";
import * as seats from "../src/lib/seats";

test("the seat route uses the renamed helper", async () => {
  const response = await GET(new Request("http://localhost/api/seats?row=f&seat=3"));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { label: "F-03" });
});

test("the rename stays", () => {
  assert.equal("formatSeat" in seats, false);
  assert.equal(seats.seatLabel("a", 12), "A-12");
});
