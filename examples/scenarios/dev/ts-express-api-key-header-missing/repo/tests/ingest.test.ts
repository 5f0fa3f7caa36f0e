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

test("a batch with a valid key is accepted", () => {
  const seen = send({ "x-api-key": "key_live_7f3a" }, { points: [{ name: "cpu", value: 0.4 }] });
  assert.deepEqual(seen, { status: 202, body: { accepted: 1 } });
});

test("a wrong key is refused", () => {
  assert.equal(send({ "x-api-key": "nope" }, { points: [] }).status, 403);
});
