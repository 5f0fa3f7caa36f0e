export interface Order {
  id: string;
  customerId: string;
  shipmentId: string | null;
}

export interface Shipment {
  id: string;
  carrier: string;
  eta: string;
}

const orders = new Map<string, Order>([
  ["ord_1001", { id: "ord_1001", customerId: "cus_1", shipmentId: "shp_77" }],
  ["ord_1002", { id: "ord_1002", customerId: "cus_2", shipmentId: null }],
]);

const shipments = new Map<string, Shipment>([["shp_77", { id: "shp_77", carrier: "DPD", eta: "2025-06-24" }]]);

export const findOrder = (id: string): Order | undefined => orders.get(id);
export const findShipment = (id: string | null): Shipment | undefined => (id ? shipments.get(id) : undefined);
