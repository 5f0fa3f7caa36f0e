export function formatSeat(row: string, seat: number): string {
  return `${row.toUpperCase()}-${String(seat).padStart(2, "0")}`;
}
