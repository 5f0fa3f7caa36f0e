import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/invoices/[id]/route";

const get = (id: string) => GET(new Request(`http://localhost/api/invoices/${id}`), { params: Promise.resolve({ id }) });

test("an invoice due on receipt is shown", async () => {
  const response = await get("inv_3");
  assert.equal(response.status, 200);
  const body = (await response.json()) as Record<string, string>;
  assert.equal(body.amount, "£45.00");
  assert.match(body.due, /receipt/i);
});

test("currencies and UTC due days from the same change still work", async () => {
  const body = (await (await get("inv_2")).json()) as Record<string, string>;
  assert.equal(body.amount, "€980.50");
  assert.equal(body.due, "2025-06-30");
});
