import type { ApiRequest, ApiResponse } from "../types";

interface Article {
  slug: string;
  title: string;
  tags: string[];
  published: boolean;
}

const ARTICLES: Article[] = [
  { slug: "update-card", title: "Update the card on file", tags: ["billing", "account"], published: true },
  { slug: "refund-times", title: "How long refunds take", tags: ["billing", "refunds"], published: true },
  { slug: "usage-billing", title: "Bill by usage through the API", tags: ["api", "billing"], published: true },
  { slug: "api-keys", title: "Create and rotate API keys", tags: ["api", "security"], published: true },
  { slug: "webhooks", title: "Receive webhooks", tags: ["api"], published: true },
  { slug: "sso-setup", title: "Set up single sign-on", tags: ["security", "account"], published: true },
  { slug: "tax-invoices", title: "Tax invoices (draft)", tags: ["billing"], published: false },
];

function summary(article: Article) {
  return { slug: article.slug, title: article.title, tags: article.tags };
}

// GET /articles/:slug
export function getArticle(req: ApiRequest, res: ApiResponse): void {
  const article = ARTICLES.find((a) => a.published && a.slug === req.params.slug);
  if (!article) {
    res.status(404).json({ error: "article not found" });
    return;
  }
  res.json(summary(article));
}

// GET /articles?tag=billing,api: the published articles with any of the tags (every one without ?tag).
export function listArticles(req: ApiRequest, res: ApiResponse): void {
  const tag = req.query.tag;
  const wanted = tag ? tag.toLowerCase().split(",").map((t) => t.trim()) : [];
  const found = ARTICLES.filter((a) => a.published && (wanted.length === 0 || a.tags.some((t) => wanted.includes(t))));
  res.json({ articles: found.map(summary), count: found.length });
}
