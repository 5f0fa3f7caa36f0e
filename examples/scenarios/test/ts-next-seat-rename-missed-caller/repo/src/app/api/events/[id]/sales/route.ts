import { getEvent } from "@/lib/events";

interface Sales {
  sold: number;
  averagePence: number | null;
}

export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const event = await getEvent(id);
  if (!event) {
    return Response.json({ error: "Event not found" }, { status: 404 });
  }
  const total = event.soldPence.reduce((sum, p) => sum + BigInt(p), 0n);
  const sales: Sales = { sold: event.soldPence.length, averagePence: Number(total / BigInt(event.soldPence.length)) };
  return Response.json(sales);
}
