import assert from "node:assert/strict";
import { test } from "node:test";

import type { QueryValue, Response } from "../src/http";
import { listDishes } from "../src/routes/dishes";

function list(query: Record<string, QueryValue>) {
  const out = { status: 200, body: undefined as unknown };
  const res: Response = {
    status(code) {
      out.status = code;
      return res;
    },
    json(body) {
      out.body = body;
      return res;
    },
  };
  listDishes({ method: "GET", path: "/dishes", params: {}, query, headers: {} }, res);
  return out;
}

const ids = (out: { status: number; body: unknown }) => {
  assert.equal(out.status, 200);
  return (out.body as { dishes: { id: string }[] }).dishes.map((d) => d.id);
};

test("one ?diet= (Express gives a string) filters on that diet", () => {
  assert.deepEqual(ids(list({ diet: "vegan" })), ["d_01", "d_03", "d_05"]);
});

test("a comma list from the web and v2 apps still filters on every diet in it", () => {
  assert.deepEqual(ids(list({ diet: "vegan,nut-free" })), ["d_01", "d_05"]);
});

test("repeated ?diet= from the v3 app filters on every diet", () => {
  assert.deepEqual(ids(list({ diet: ["vegan", "nut-free"] })), ["d_01", "d_05"]);
  assert.deepEqual(ids(list({})), ["d_01", "d_02", "d_03", "d_04", "d_05"]);
});

test("an unknown diet in a single param is the route's 400", () => {
  const out = list({ diet: "keto" });
  assert.equal(out.status, 400);
  assert.deepEqual(out.body, { message: "unknown diet: keto" });
});
