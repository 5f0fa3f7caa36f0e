// Amounts are integer minor units held as BigInt: totals across merchants exceed 2^53 pence.
export interface Order {
  id: string;
  merchantId: string;
  amountMinor: bigint;
  refunded: boolean;
}

const orders: Order[] = [
  { id: "o1", merchantId: "m_1", amountMinor: 12_500n, refunded: false },
  { id: "o2", merchantId: "m_1", amountMinor: 7_500n, refunded: false },
  { id: "o3", merchantId: "m_1", amountMinor: 4_000n, refunded: true },
  { id: "o4", merchantId: "m_2", amountMinor: 99_900n, refunded: true },
];

export function ordersFor(merchantId: string): Order[] {
  return orders.filter((o) => o.merchantId === merchantId);
}
