import { trackingStatusToJSON } from "@/generated/carrier/v1/tracking";
import { fetchTracking } from "@/lib/carrier";
import { getShipment } from "@/lib/shipments";

// GET /api/shipments/:id/tracking: the carrier's events for one of our shipments, latest first.
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const shipment = await getShipment(id);
  if (!shipment) {
    return Response.json({ error: "Shipment not found" }, { status: 404 });
  }
  const tracking = await fetchTracking(shipment.trackingNumber);
  if (!tracking) {
    return Response.json({ error: "The carrier has no tracking for this shipment yet" }, { status: 404 });
  }
  const events = tracking.events
    .map((e) => ({ status: trackingStatusToJSON(e.status), at: e.occurredAt?.toISOString() ?? null, location: e.location }))
    .reverse();
  return Response.json({ shipmentId: id, trackingNumber: tracking.trackingNumber, status: events[0]?.status ?? null, events });
}
