import { findOrder } from "../lib/store";

export interface HandlerRequest {
  params: Record<string, string>;
  query: Record<string, string>;
}

export interface HandlerResult {
  status: number;
  body: unknown;
}

export async function getOrder(req: HandlerRequest): Promise<HandlerResult> {
  const order = findOrder(req.params.id);
  if (!order) {
    return { status: 404, body: { error: "order not found" } };
  }
  return { status: 200, body: { id: order.id, customerId: order.customerId } };
}
