import { pointsFor } from "@/lib/loyalty";

export interface Basket {
  lines: { sku: string; unitPence: number; quantity: number }[];
}

export function summarise(basket: Basket, membersDay = false) {
  const totalPence = basket.lines.reduce((sum, line) => sum + line.unitPence * line.quantity, 0);
  return { totalPence, points: pointsFor(totalPence, membersDay) };
}
