import { feedbackFor } from "@/lib/feedback";

// GET /api/feedback/summary?page=/docs/billing
export async function GET(request: Request): Promise<Response> {
  const page = new URL(request.url).searchParams.get("page");
  if (!page) {
    return Response.json({ error: "page is required" }, { status: 400 });
  }
  const entries = await feedbackFor(page);
  const average = entries.length ? entries.reduce((sum, f) => sum + f.rating, 0) / entries.length : null;
  return Response.json({ page, count: entries.length, average });
}
