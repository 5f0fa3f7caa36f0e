import { createHmac } from "node:crypto";

import type { Req, Res } from "../http";

const SECRET = "whsec_test";
const bookings = new Map([
  ["bk_1", { id: "bk_1", guest: "R. Ahmed", listingId: "lst_9", nights: 3 }],
]);
const listings = new Map([
  ["lst_9", { id: "lst_9", nightlyPence: 8500, reviews: [{ rating: 5, text: "Lovely" }] }],
  ["lst_10", { id: "lst_10", nightlyPence: 12000, reviews: [] as { rating: number; text: string }[] }],
]);

export function getBooking(req: Req, res: Res): void {
  const booking = bookings.get(req.params.id);
  res.json({ id: booking.id, guest: booking.guest, nights: booking.nights });
}

export function getListing(req: Req, res: Res): void {
  const listing = listings.get(req.params.id);
  if (!listing) {
    res.status(404).json({ error: "listing not found" });
    return;
  }
  res.json({ id: listing.id, nightlyPence: listing.nightlyPence });
}

export function quote(req: Req, res: Res): void {
  const listing = listings.get(req.params.id);
  if (!listing) {
    res.status(404).json({ error: "listing not found" });
    return;
  }
  const nights = req.query.nights ?? 1;
  res.json({ totalPence: listing.nightlyPence * (nights as number), nights: (nights as number).toFixed(0) });
}

export function latestReview(req: Req, res: Res): void {
  const listing = listings.get(req.params.id);
  if (!listing) {
    res.status(404).json({ error: "listing not found" });
    return;
  }
  const latest = listing.reviews[listing.reviews.length - 1];
  res.json({ rating: latest.rating, text: latest.text });
}

export function paymentWebhook(req: Req, res: Res): void {
  const [scheme, digest] = req.headers["x-signature"].split("=");
  const expected = createHmac("sha256", SECRET).update(JSON.stringify(req.body ?? {})).digest("hex");
  if (scheme !== "sha256" || digest !== expected) {
    res.status(401).json({ error: "bad signature" });
    return;
  }
  res.json({ received: true });
}
