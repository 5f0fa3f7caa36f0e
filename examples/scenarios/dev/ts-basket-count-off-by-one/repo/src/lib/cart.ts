export interface CartItem {
  sku: string;
  quantity: number;
  unitPence: number;
}

const carts = new Map<string, CartItem[]>([
  ["cart_a", [
    { sku: "MILK-2L", quantity: 2, unitPence: 165 },
    { sku: "BREAD-W", quantity: 1, unitPence: 140 },
    { sku: "EGGS-12", quantity: 30, unitPence: 325 },
  ]],
  ["cart_empty", []],
]);

export function cartItems(cartId: string): CartItem[] {
  return carts.get(cartId) ?? [];
}

export function cartTotalPence(items: CartItem[]): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unitPence, 0);
}

export function basketCount(items: CartItem[]): number {
  return items.reduce((sum, item) => sum + item.quantity, 0);
}
