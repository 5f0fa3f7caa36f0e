export function formatMoney(amountMinor: number): string {
  return `£${(amountMinor / 100).toFixed(2)}`;
}

export function formatDueDate(dueAt: string): string {
  if (!dueAt) {
    return "on receipt";
  }
  return dueAt.slice(0, 10);
}
