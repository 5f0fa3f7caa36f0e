export interface Product {
  sku: string;
  name: string;
  pricePence: number;
  tags: string[];
}

export const PRODUCTS: Product[] = [
  { sku: "TENT-2P", name: "Ridgeline 2P tent", pricePence: 18900, tags: ["camping", "tents"] },
  { sku: "STOVE-1", name: "Pocket stove", pricePence: 3400, tags: ["camping", "cooking"] },
  { sku: "BOOT-W", name: "Fellrunner boots", pricePence: 12900, tags: ["footwear", "hiking"] },
  { sku: "POLE-2", name: "Carbon poles", pricePence: 7900, tags: ["hiking"] },
];

export function search(query: string, tags: string[], limit: number): Product[] {
  const q = query.trim().toLowerCase();
  return PRODUCTS.filter((p) => p.name.toLowerCase().includes(q))
    .filter((p) => tags.every((tag) => p.tags.includes(tag)))
    .slice(0, limit);
}
