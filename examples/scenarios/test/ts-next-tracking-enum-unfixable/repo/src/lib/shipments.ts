export interface Shipment {
  id: string;
  orderId: string;
  trackingNumber: string;
}

const SHIPMENTS: Shipment[] = [
  { id: "shp_8101", orderId: "ord_55120", trackingNumber: "CX100200300GB" },
  { id: "shp_8102", orderId: "ord_55121", trackingNumber: "CX100200301GB" },
  { id: "shp_8140", orderId: "ord_55188", trackingNumber: "CX554433221DE" },
  { id: "shp_8141", orderId: "ord_55190", trackingNumber: "CX554433222FR" },
  { id: "shp_8150", orderId: "ord_55201", trackingNumber: "CX999999999GB" },
];

export async function getShipment(id: string): Promise<Shipment | undefined> {
  return SHIPMENTS.find((s) => s.id === id);
}
