import assert from "node:assert/strict";
import { test } from "node:test";

import type { QueryValue, Request, Response } from "../src/http";
import { getDish, listDishes } from "../src/routes/dishes";

function call(handler: (req: Request, res: Response) => void, params: Record<string, string>, query: Record<string, QueryValue> = {}) {
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
  handler({ method: "GET", path: "/dishes", params, query, headers: {} }, res);
  return out;
}

const ids = (body: unknown) => (body as { dishes: { id: string }[] }).dishes.map((d) => d.id);

test("every dish without a filter", () => {
  assert.deepEqual(ids(call(listDishes, {}).body), ["d_01", "d_02", "d_03", "d_04", "d_05"]);
});

test("dishes that suit every diet asked for", () => {
  assert.deepEqual(ids(call(listDishes, {}, { diet: "vegan,nut-free" }).body), ["d_01", "d_05"]);
});

test("an unknown diet is a 400", () => {
  const out = call(listDishes, {}, { diet: "keto" });
  assert.equal(out.status, 400);
  assert.deepEqual(out.body, { message: "unknown diet: keto" });
});

test("one dish", () => {
  assert.equal((call(getDish, { id: "d_04" }).body as { name: string }).name, "Lamb rump, salsa verde");
  assert.equal(call(getDish, { id: "d_99" }).status, 404);
});
