export type Row = Record<string, string | number>;

/** Rows as CSV text: a header line from the first row's keys, then one line per row. No rows: "". */
export function toCsv(rows: Row[]): string {
  const header = Object.keys(rows[0]);
  const lines = rows.map((row) => header.map((key) => String(row[key] ?? "")).join(","));
  return [header.join(","), ...lines].join("\n");
}
