export interface BasketLine {
  sku: string;
  unitPence: number;
  quantity: number;
}

const DISCOUNTS: Record<string, number> = { WELCOME10: 10, SUMMER25: 25 };

export function discountPercent(code: string | null | undefined): number {
  if (!code) {
    return 0;
  }
  return DISCOUNTS[code.trim().toUpperCase()] ?? 0;
}

export function priceBasket(lines: BasketLine[], code?: string | null) {
  const subtotal = lines.reduce((sum, line) => sum + line.unitPence * line.quantity, 0);
  const discount = Math.round((subtotal * discountPercent(code)) / 100);
  return { subtotalPence: subtotal, discountPence: discount, totalPence: subtotal - discount };
}
