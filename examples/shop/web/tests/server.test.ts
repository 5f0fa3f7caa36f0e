import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test } from "node:test";

import { createApp } from "../src/app";
import { startServer } from "../src/server";

test("the node:http server serves health, routes and metrics on an ephemeral port", async () => {
  const app = await createApp({ service: "web", release: "shop-web@test", commit: "c0ffee", environment: "test", file: null });
  process.env.SHOP_DB_LATENCY_MS = "0";
  const server = await startServer(0, app);
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: "ok", release: "shop-web@test", commit: "c0ffee" });
    const created = await fetch(`${base}/api/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        practiceId: "prc_100",
        lines: [{ sku: "A", unitPence: 500, quantity: 1 }],
        delivery: { address: { line1: "2 Park Row", postcode: "LS1 5HD", country: "GB" } },
      }),
    });
    assert.equal(created.status, 201);
    assert.equal((await fetch(`${base}/api/no-such-route`)).status, 404);
    assert.match(await (await fetch(`${base}/metrics`)).text(), /route="\/api\/orders",method="POST",status="201"/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
