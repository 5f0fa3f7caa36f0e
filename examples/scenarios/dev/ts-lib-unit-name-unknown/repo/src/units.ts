export interface UnitNames {
  singular: string;
  plural: string;
}

const UNITS: Record<string, UnitNames> = {
  kg: { singular: "kilogram", plural: "kilograms" },
  l: { singular: "litre", plural: "litres" },
};

/** The name of a unit for an amount ("kg", 2 → "kilograms"); a unit code the table does not know has no name: "". */
export function unitName(code: string, amount: number): string {
  return amount === 1 ? UNITS[code].singular : UNITS[code].plural;
}

export function knownUnits(): string[] {
  return Object.keys(UNITS).sort();
}
