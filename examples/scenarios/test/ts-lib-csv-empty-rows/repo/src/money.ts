const RATES: Record<string, { rate: number; decimals: number }> = {
  GBP: { rate: 1, decimals: 2 },
  EUR: { rate: 1.17, decimals: 2 },
  JPY: { rate: 182.4, decimals: 0 },
};

export class UnsupportedCurrencyError extends Error {
  constructor(readonly currency: string) {
    super(`unsupported currency: ${currency}`);
    this.name = "UnsupportedCurrencyError";
  }
}

/** Convert pounds to ``currency``. Throws UnsupportedCurrencyError for a currency without a rate. */
export function fromPounds(amount: number, currency: string): string {
  if (!Number.isFinite(amount)) {
    throw new RangeError(`not an amount: ${amount}`);
  }
  const { rate, decimals } = RATES[currency];
  return (amount * rate).toFixed(decimals);
}
