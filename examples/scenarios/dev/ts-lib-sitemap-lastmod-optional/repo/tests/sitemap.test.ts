import assert from "node:assert/strict";
import { test } from "node:test";

import { sitemap } from "../src/sitemap";

test("every page is listed with its last change", () => {
  const xml = sitemap("https://example.org", [
    { path: "/", updatedAt: "2026-02-01T09:30:00Z", changeFrequency: "daily", priority: 1 },
    { path: "/about", updatedAt: "2025-11-20T12:00:00Z" },
  ]);
  assert.equal(
    xml,
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
      "  <url>",
      "    <loc>https://example.org/</loc>",
      "    <lastmod>2026-02-01</lastmod>",
      "    <changefreq>daily</changefreq>",
      "    <priority>1.0</priority>",
      "  </url>",
      "  <url>",
      "    <loc>https://example.org/about</loc>",
      "    <lastmod>2025-11-20</lastmod>",
      "  </url>",
      "</urlset>",
      "",
    ].join("\n"),
  );
});
