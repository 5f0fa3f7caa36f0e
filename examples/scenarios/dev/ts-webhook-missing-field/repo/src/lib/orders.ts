export type OrderStatus = "paid" | "label_created" | "in_transit" | "delivered";

export interface Shipment {
  orderId: string;
  status: OrderStatus;
  carrier?: string;
  trackingUrl?: string;
}

const shipments = new Map<string, Shipment>([["ord_1", { orderId: "ord_1", status: "paid" }]]);

export function getShipment(orderId: string): Shipment | undefined {
  return shipments.get(orderId);
}

export function updateShipment(orderId: string, change: Partial<Shipment>): Shipment {
  const next = { ...(shipments.get(orderId) ?? { orderId, status: "paid" as const }), ...change };
  shipments.set(orderId, next);
  return next;
}
