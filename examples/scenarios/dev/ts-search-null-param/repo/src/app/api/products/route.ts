import { search } from "@/lib/catalog";

const DEFAULT_LIMIT = 20;

export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const query = url.searchParams.get("q") ?? "";
  const tags = url.searchParams.get("tags")!.split(",").filter(Boolean);
  const limit = Number(url.searchParams.get("limit") ?? DEFAULT_LIMIT);
  const results = search(query, tags, limit);
  return Response.json({ count: results.length, results: results.map((p) => ({ sku: p.sku, name: p.name })) });
}
