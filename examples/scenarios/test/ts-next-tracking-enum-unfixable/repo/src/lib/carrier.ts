import { GetTrackingResponse } from "@/generated/carrier/v1/tracking";

// GET https://api.carrier.example/v1/tracking/{number}: the JSON mapping of carrier.v1.GetTrackingResponse.
export type Transport = (trackingNumber: string) => Promise<unknown | undefined>;

// The carrier's sandbox, which preview deploys and the tests talk to (its recorded answers).
const SANDBOX: Record<string, unknown> = {
  "CX100200300GB": {
    trackingNumber: "CX100200300GB",
    events: [
      { status: "LABEL_CREATED", occurredAt: "2026-11-27T08:02:00Z", location: "Leeds" },
      { status: "IN_TRANSIT", occurredAt: "2026-11-27T19:40:00Z", location: "Manchester hub" },
      { status: "DELIVERED", occurredAt: "2026-11-28T12:15:00Z", location: "Salford" },
    ],
  },
  "CX100200301GB": {
    trackingNumber: "CX100200301GB",
    events: [{ status: "LABEL_CREATED", occurredAt: "2026-11-29T10:00:00Z", location: "Leeds" }],
  },
  "CX554433221DE": {
    trackingNumber: "CX554433221DE",
    events: [
      { status: "LABEL_CREATED", occurredAt: "2026-11-30T09:12:00Z", location: "Leeds" },
      { status: "IN_TRANSIT", occurredAt: "2026-12-01T06:30:00Z", location: "Dover" },
      { status: "HELD_AT_CUSTOMS", occurredAt: "2026-12-01T14:05:00Z", location: "Calais" },
    ],
  },
  "CX554433222FR": {
    trackingNumber: "CX554433222FR",
    events: [
      { status: "LABEL_CREATED", occurredAt: "2026-12-01T11:00:00Z", location: "Leeds" },
      { status: "HELD_AT_CUSTOMS", occurredAt: "2026-12-02T09:45:00Z", location: "Calais" },
    ],
  },
};

const sandbox: Transport = async (trackingNumber) => SANDBOX[trackingNumber];

export async function fetchTracking(trackingNumber: string, transport: Transport = sandbox): Promise<GetTrackingResponse | undefined> {
  const raw = await transport(trackingNumber);
  return raw === undefined ? undefined : GetTrackingResponse.fromJSON(raw);
}
