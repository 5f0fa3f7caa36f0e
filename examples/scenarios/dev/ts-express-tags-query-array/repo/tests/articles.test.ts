import assert from "node:assert/strict";
import { test } from "node:test";

import { getArticle, listArticles } from "../src/routes/articles";
import type { ApiRequest, ApiResponse } from "../src/types";

function call(
  handler: (req: ApiRequest, res: ApiResponse) => void,
  { params = {}, query = {} }: { params?: Record<string, string>; query?: Record<string, string> },
) {
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
  handler({ params, query, headers: {} }, res);
  return res;
}

function slugs(res: ApiResponse): string[] {
  return (res.body as { articles: { slug: string }[] }).articles.map((a) => a.slug);
}

test("every published article without a tag filter", () => {
  const res = call(listArticles, {});
  assert.equal(res.statusCode, 200);
  assert.deepEqual(slugs(res), ["update-card", "refund-times", "usage-billing", "api-keys", "webhooks", "sso-setup"]);
  assert.equal((res.body as { count: number }).count, 6);
});

test("articles with a tag", () => {
  const res = call(listArticles, { query: { tag: "billing" } });
  assert.deepEqual(res.body, {
    articles: [
      { slug: "update-card", title: "Update the card on file", tags: ["billing", "account"] },
      { slug: "refund-times", title: "How long refunds take", tags: ["billing", "refunds"] },
      { slug: "usage-billing", title: "Bill by usage through the API", tags: ["api", "billing"] },
    ],
    count: 3,
  });
});

test("articles with any of a comma list of tags, in any case", () => {
  const res = call(listArticles, { query: { tag: "API, security" } });
  assert.deepEqual(slugs(res), ["usage-billing", "api-keys", "webhooks", "sso-setup"]);
});

test("one article, and a 404 for an unknown or unpublished one", () => {
  const res = call(getArticle, { params: { slug: "webhooks" } });
  assert.deepEqual(res.body, { slug: "webhooks", title: "Receive webhooks", tags: ["api"] });
  assert.equal(call(getArticle, { params: { slug: "nope" } }).statusCode, 404);
  assert.equal(call(getArticle, { params: { slug: "tax-invoices" } }).statusCode, 404);
});
