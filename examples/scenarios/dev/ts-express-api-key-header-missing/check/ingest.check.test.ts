import assert from "node:assert/strict";
import { test } from "node:test";

import type { Request, Response } from "../src/express";
import { ingestBatch } from "../src/routes/ingest";

function send(headers: Record<string, string>, body: unknown) {
  const seen = { status: 200, body: undefined as unknown };
  const res: Response = {
    status(code) {
      seen.status = code;
      return res;
    },
    json(value) {
      seen.body = value;
      return res;
    },
  };
  const req: Request = { params: {}, query: {}, headers, body };
  ingestBatch(req, res);
  return seen;
}

test("a batch without an api key is refused like a wrong key (the handler's own 403), not a crash", () => {
  const seen = send({}, { points: [{ name: "cpu", value: 0.4 }] });
  assert.equal(seen.status, 403);
  assert.equal(typeof (seen.body as { error?: unknown }).error, "string");
});

test("a valid key is still accepted and a wrong one still refused", () => {
  assert.deepEqual(send({ "x-api-key": "key_live_91bc" }, { points: [] }), { status: 202, body: { accepted: 0 } });
  assert.equal(send({ "x-api-key": "nope" }, { points: [] }).status, 403);
});
