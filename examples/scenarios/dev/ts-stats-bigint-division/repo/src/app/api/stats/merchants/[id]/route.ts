import { ordersFor } from "@/lib/orders";
import { merchantStats } from "@/lib/stats";

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  return Response.json({ merchantId: id, ...merchantStats(ordersFor(id)) });
}
