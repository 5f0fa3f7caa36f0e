import assert from "node:assert/strict";
import { test } from "node:test";

import { listArticles } from "../src/routes/articles";
import type { ApiRequest, ApiResponse } from "../src/types";

// Express parses ?tag=a as a string and ?tag=a&tag=b as an array of strings.
function list(query: Record<string, string | string[]>) {
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
  listArticles({ params: {}, query, headers: {} } as unknown as ApiRequest, res);
  return res;
}

const BILLING_OR_API = {
  articles: [
    { slug: "update-card", title: "Update the card on file", tags: ["billing", "account"] },
    { slug: "refund-times", title: "How long refunds take", tags: ["billing", "refunds"] },
    { slug: "usage-billing", title: "Bill by usage through the API", tags: ["api", "billing"] },
    { slug: "api-keys", title: "Create and rotate API keys", tags: ["api", "security"] },
    { slug: "webhooks", title: "Receive webhooks", tags: ["api"] },
  ],
  count: 5,
};

test("a repeated ?tag= means several tags: the articles with any of them, each once", () => {
  const res = list({ tag: ["billing", "api"] });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.body, BILLING_OR_API);
});

test("each repeated value is read like a single one (case-insensitive)", () => {
  const res = list({ tag: ["Security", "refunds"] });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(
    (res.body as { articles: { slug: string }[] }).articles.map((a) => a.slug),
    ["refund-times", "api-keys", "sso-setup"],
  );
  assert.equal((res.body as { count: number }).count, 3);
});

test("a single ?tag= and a comma list still work the same way", () => {
  const one = list({ tag: "billing" });
  assert.equal(one.statusCode, 200);
  assert.deepEqual(
    (one.body as { articles: { slug: string }[] }).articles.map((a) => a.slug),
    ["update-card", "refund-times", "usage-billing"],
  );
  assert.deepEqual(list({ tag: "billing,api" }).body, BILLING_OR_API);
});
