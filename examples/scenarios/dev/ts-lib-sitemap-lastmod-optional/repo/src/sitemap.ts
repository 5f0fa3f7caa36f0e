// The sitemap.xml the static build publishes: one <url> per page the crawler may index.

export interface Page {
  path: string;
  updatedAt?: string; // ISO timestamp of the last content change; pages imported from the old CMS have none
  changeFrequency?: "daily" | "weekly" | "monthly";
  priority?: number;
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function sitemap(origin: string, pages: Page[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'];
  for (const page of pages) {
    out.push("  <url>", `    <loc>${escapeXml(new URL(page.path, origin).href)}</loc>`);
    out.push(`    <lastmod>${new Date(page.updatedAt).toISOString().slice(0, 10)}</lastmod>`);
    if (page.changeFrequency) out.push(`    <changefreq>${page.changeFrequency}</changefreq>`);
    if (page.priority !== undefined) out.push(`    <priority>${page.priority.toFixed(1)}</priority>`);
    out.push("  </url>");
  }
  out.push("</urlset>");
  return out.join("\n") + "\n";
}
