import type { Variant } from "./catalog";

export function inStock(variants: Variant[]): Variant[] {
  return variants.filter((v) => v.stock > 0);
}

export function cheapestInStock(variants: Variant[]): Variant {
  return inStock(variants).reduce((best, v) => (v.pricePence < best.pricePence ? v : best));
}
