import assert from "node:assert/strict";
import { test } from "node:test";

import { getRoster } from "../src/api/classes";
import type { ApiRequest, ApiResponse } from "../src/types";

function call(handler: (req: ApiRequest, res: ApiResponse) => void, params: Record<string, string>) {
  const res: ApiResponse = {
    statusCode: 200,
    body: undefined,
    status(code) {
      this.statusCode = code;
      return this;
    },
    json(body) {
      this.body = body;
      return this;
    },
  };
  handler({ params, query: {}, headers: {} }, res);
  return res;
}

test("an unknown class is a 404 in the module's own { message } shape", () => {
  const res = call(getRoster, { classId: "cl_yoga" });
  assert.equal(res.statusCode, 404);
  const body = res.body as { message?: unknown };
  assert.equal(typeof body.message, "string");
  assert.match(String(body.message), /not found/i);
});

test("a known class roster is unchanged", () => {
  const res = call(getRoster, { classId: "cl_spin" });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.body, { coach: "Ada", members: 2, spaces: 10 });
});
