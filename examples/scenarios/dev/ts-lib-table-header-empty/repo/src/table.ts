export type Row = Record<string, string | number>;

/**
 * The header line of a text table: the column names of its first row, upper-cased, joined by `separator`.
 */
export function headerLine(rows: Row[], separator: string): string {
  return Object.keys(rows[0])
    .map((column) => column.toUpperCase())
    .join(separator);
}

export function bodyLines(rows: Row[], separator: string): string[] {
  return rows.map((row) => Object.values(row).join(separator));
}
