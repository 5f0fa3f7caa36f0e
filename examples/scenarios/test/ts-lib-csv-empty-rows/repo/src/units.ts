const FACTORS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration like "90s", "5 m" or "2h". Throws RangeError on anything else. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(ms|s|m|h)$/.exec(text.trim());
  if (!match) {
    throw new RangeError(`invalid duration: ${text}`);
  }
  return Number(match[1]) * FACTORS[match[2]];
}
