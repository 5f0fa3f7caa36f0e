import { updateShipment, type OrderStatus } from "@/lib/orders";

// Carrier webhook (ShipFast). Event types: label.created, shipment.in_transit, shipment.delivered.
interface ShipFastEvent {
  type: string;
  data: { order_reference: string; tracking?: { carrier: string; url: string } };
}

const STATUS: Record<string, OrderStatus> = {
  "label.created": "label_created",
  "shipment.in_transit": "in_transit",
  "shipment.delivered": "delivered",
};

export async function POST(request: Request): Promise<Response> {
  const event = (await request.json()) as ShipFastEvent;
  const status = STATUS[event.type];
  if (!status) {
    return Response.json({ ignored: event.type }, { status: 202 });
  }
  const shipment = updateShipment(event.data.order_reference, { status });
  return Response.json({ orderId: shipment.orderId, status: shipment.status });
}
