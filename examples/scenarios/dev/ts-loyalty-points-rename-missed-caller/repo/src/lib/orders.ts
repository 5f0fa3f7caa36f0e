export interface Order {
  id: string;
  totalPence: number;
  placedOn: string; // ISO date
}

const ORDERS: Record<string, Order> = {
  ord_501: { id: "ord_501", totalPence: 1875, placedOn: "2025-07-02" },
  ord_502: { id: "ord_502", totalPence: 640, placedOn: "2025-07-05" },
  ord_503: { id: "ord_503", totalPence: 99, placedOn: "2025-07-07" },
};

export function findOrder(id: string): Order | undefined {
  return ORDERS[id];
}

/** Members' days are the first Saturday of the month. */
export function isMembersDay(isoDate: string): boolean {
  const day = new Date(`${isoDate}T12:00:00Z`);
  return day.getUTCDay() === 6 && day.getUTCDate() <= 7;
}
