/** Grams in a weight as people write it: "250 g", "1.5 kg", "2kg" (the space is optional, case does not matter). */
export function parseWeight(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(g|kg)\s*$/i.exec(text);
  if (match === null) throw new RangeError(`invalid weight: ${text}`);
  const value = Number(match[1]);
  return match[2].toLowerCase() === "kg" ? value * 1000 : value;
}

/** The total grams of a packing list's lines. */
export function totalGrams(lines: string[]): number {
  return lines.reduce((sum, line) => sum + parseWeight(line), 0);
}
