export class UnknownUnitError extends Error {
  constructor(unit: string) {
    super(`unknown unit: ${unit}`);
    this.name = "UnknownUnitError";
  }
}

const FACTORS: Record<string, { factor: number }> = { g: { factor: 1 }, kg: { factor: 1000 }, t: { factor: 1_000_000 } };

/** Grams in an amount of a unit (2, "kg" → 2000). Throws UnknownUnitError for a unit the table does not know. */
export function toGrams(amount: number, unit: string): number {
  const { factor } = FACTORS[unit];
  return amount * factor;
}
