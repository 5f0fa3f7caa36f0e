import { saveFeedback, type Feedback } from "@/lib/feedback";

const MAX_COMMENT = 2000;

// POST /api/feedback { page, rating (1-5), comment? } from the "Was this page helpful?" widget.
export async function POST(request: Request): Promise<Response> {
  const body = (await request.json()) as { page?: unknown; rating?: unknown; comment?: unknown };
  if (typeof body.page !== "string" || !body.page.startsWith("/")) {
    return Response.json({ error: "page must be a path such as /docs/billing" }, { status: 400 });
  }
  if (typeof body.rating !== "number" || !Number.isInteger(body.rating) || body.rating < 1 || body.rating > 5) {
    return Response.json({ error: "rating must be a whole number from 1 to 5" }, { status: 400 });
  }
  const comment = typeof body.comment === "string" ? body.comment.trim() : "";
  if (comment.length > MAX_COMMENT) {
    return Response.json({ error: `comment must be at most ${MAX_COMMENT} characters` }, { status: 400 });
  }
  const saved = await saveFeedback({ page: body.page, rating: body.rating as Feedback["rating"], comment });
  return Response.json({ id: saved.id }, { status: 201 });
}
