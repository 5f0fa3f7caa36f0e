// Protected path: the payment webhook. Acknowledges signed events; rejects unsigned ones.
export async function POST(request: Request): Promise<Response> {
  if (!request.headers.get("stripe-signature")) {
    return Response.json({ error: "Missing signature" }, { status: 400 });
  }
  const event = (await request.json()) as { id?: string; type?: string };
  return Response.json({ received: true, id: event.id ?? null, type: event.type ?? null });
}
