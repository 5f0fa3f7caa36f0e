import { priceBasket, type BasketLine } from "@/lib/pricing";

export async function POST(request: Request): Promise<Response> {
  const body = (await request.json()) as { lines?: BasketLine[]; code?: string };
  if (!Array.isArray(body.lines)) {
    return Response.json({ error: "lines must be an array" }, { status: 400 });
  }
  return Response.json(priceBasket(body.lines, body.code));
}
