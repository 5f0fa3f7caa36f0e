import assert from "node:assert/strict";
import { test } from "node:test";

import { getMember, getRoster } from "../src/api/classes";
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

test("a member's profile", () => {
  const res = call(getMember, { memberId: "mb_1" });
  assert.deepEqual(res.body, { id: "mb_1", name: "Ines Duarte", plan: "peak" });
});

test("an unknown member is a 404", () => {
  assert.equal(call(getMember, { memberId: "mb_9" }).statusCode, 404);
});

test("a class roster with its free spaces", () => {
  const res = call(getRoster, { classId: "cl_spin" });
  assert.deepEqual(res.body, { coach: "Ada", members: 2, spaces: 10 });
});
