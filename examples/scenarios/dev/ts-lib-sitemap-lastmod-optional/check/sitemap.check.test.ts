import assert from "node:assert/strict";
import { test } from "node:test";

import { sitemap } from "../src/sitemap";

test("a page with no recorded change is listed without <lastmod>, like the other optional tags", () => {
  const xml = sitemap("https://example.org", [
    { path: "/pricing", updatedAt: "2026-01-15T08:00:00Z", priority: 0.8 },
    { path: "/legacy/faq" },
  ]);
  assert.equal(
    xml,
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
      "  <url>",
      "    <loc>https://example.org/pricing</loc>",
      "    <lastmod>2026-01-15</lastmod>",
      "    <priority>0.8</priority>",
      "  </url>",
      "  <url>",
      "    <loc>https://example.org/legacy/faq</loc>",
      "  </url>",
      "</urlset>",
      "",
    ].join("\n"),
  );
});

test("pages with every tag are unchanged", () => {
  const xml = sitemap("https://example.org", [{ path: "/", updatedAt: "2026-02-01T09:30:00Z", changeFrequency: "weekly" }]);
  assert.match(xml, /<lastmod>2026-02-01<\/lastmod>\n    <changefreq>weekly<\/changefreq>/);
});
