import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { createApp } from "../src/app";

process.env.SHOP_DB_LATENCY_MS = "0";
const logFile = join(mkdtempSync(join(tmpdir(), "shop-web-")), "web.jsonl");
const app = await createApp({ service: "web", release: "shop-web@test", commit: "abc123", environment: "test", file: logFile });

const get = (path: string, headers: Record<string, string> = {}) =>
  app.handle(new Request(`http://localhost${path}`, { headers }));
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.handle(new Request(`http://localhost${path}`, { method: "POST", body: JSON.stringify(body), headers }));
const logLines = () =>
  readFileSync(logFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test("lists practices sorted by name", async () => {
  const body = (await (await get("/api/practices")).json()) as { name: string }[];
  assert.equal(body.length, 40);
  assert.deepEqual(
    body.map((p) => p.name),
    [...body.map((p) => p.name)].sort((a, b) => a.localeCompare(b)),
  );
});

test("a practice by id has its details", async () => {
  const response = await get("/api/practices/prc_100");
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { city: string }).city, "Leeds");
});

test("an order with delivery is charged VAT for its country", async () => {
  const response = await post(
    "/api/orders",
    { practiceId: "prc_101", lines: [{ sku: "KIT", unitPence: 1000, quantity: 2 }], delivery: { address: { line1: "1 Quay St", postcode: "D02", country: "IE" } } },
    { "x-user-id": "usr_7" },
  );
  assert.equal(response.status, 201);
  const order = (await response.json()) as { totalPence: number; vatPence: number; userId: string };
  assert.deepEqual([order.vatPence, order.totalPence, order.userId], [460, 2460, "usr_7"]);
});

test("an order without lines is rejected", async () => {
  assert.equal((await post("/api/orders", { practiceId: "prc_101", lines: [] })).status, 422);
});

test("search finds practices by city and specialty", async () => {
  const body = (await (await get("/api/search?q=leeds")).json()) as { count: number; results: { city: string }[] };
  assert.ok(body.count > 0);
  assert.ok(body.results.every((p) => p.city === "Leeds"));
});

test("billing needs a practice account", async () => {
  assert.equal((await get("/api/billing")).status, 401);
  const body = (await (await get("/api/billing", { "x-practice-id": "prc_100" })).json()) as { outstandingPence: number };
  assert.equal(body.outstandingPence, 4900);
});

test("unknown routes are 404 and wrong methods 405", async () => {
  assert.equal((await get("/api/nope")).status, 404);
  assert.equal((await post("/api/practices", {})).status, 405);
});

test("requests are logged as JSON lines with route templates", async () => {
  await get("/api/practices/prc_102", { "x-user-id": "usr_42" });
  const line = logLines().find((l) => l.path === "/api/practices/prc_102");
  assert.ok(line);
  assert.equal(line.route, "/api/practices/:id");
  assert.equal(line.status, 200);
  assert.equal(line.user_id, "usr_42");
  assert.equal(line.service, "web");
  assert.equal(line.commit, "abc123");
  assert.equal(typeof line.duration_ms, "number");
});

test("an unhandled error is a 500 without internals, logged with its stack", async () => {
  const response = await app.handle(new Request("http://localhost/api/orders", { method: "POST", body: "{not json" }));
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { error: "Internal Server Error" });
  const line = logLines().find((l) => l.status === 500);
  assert.ok(line);
  assert.equal(line.level, "error");
  const error = line.error as { type: string; stack: string };
  assert.equal(error.type, "SyntaxError");
  assert.match(error.stack, /at .*route\.ts:\d+:\d+/);
});

test("metrics count requests by route and status", async () => {
  await post("/api/practices", {});
  const text = await (await get("/metrics")).text();
  assert.match(text, /http_requests_total\{route="\/api\/practices",method="POST",status="405"\} \d+/);
  assert.match(text, /http_request_duration_seconds_bucket\{route="\/api\/practices\/:id",le="\+Inf"\} \d+/);
});
