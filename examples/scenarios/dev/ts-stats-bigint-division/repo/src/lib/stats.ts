import type { Order } from "./orders";

export interface MerchantStats {
  orders: number;
  grossMinor: string;
  refundedMinor: string;
}

export function merchantStats(orders: Order[]): MerchantStats {
  const gross = orders.reduce((sum, o) => sum + o.amountMinor, 0n);
  const refunded = orders.filter((o) => o.refunded).reduce((sum, o) => sum + o.amountMinor, 0n);
  return { orders: orders.length, grossMinor: gross.toString(), refundedMinor: refunded.toString() };
}
