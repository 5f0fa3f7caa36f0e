import * as loyalty from "@/lib/loyalty";
import { findOrder, isMembersDay } from "@/lib/orders";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const order = findOrder(id);
  if (!order) {
    return Response.json({ error: "Order not found" }, { status: 404 });
  }
  const points = loyalty.pointsFor(order.totalPence, isMembersDay(order.placedOn));
  return Response.json({ orderId: order.id, points });
}
