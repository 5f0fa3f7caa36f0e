import assert from "node:assert/strict";
import { test } from "node:test";

import { GET } from "../src/app/api/invoices/[id]/route";

const invoice = async (id: string) =>
  (await GET(new Request(`http://localhost/api/invoices/${id}`), { params: Promise.resolve({ id }) })).json() as Promise<
    Record<string, string>
  >;

test("an invoice shows its amount and due date", async () => {
  assert.deepEqual(await invoice("inv_1"), { id: "inv_1", client: "Acme Ltd", amount: "£1250.00", due: "2025-07-31" });
});
