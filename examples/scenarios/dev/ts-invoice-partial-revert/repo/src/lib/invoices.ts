export interface Invoice {
  id: string;
  client: string;
  amountMinor: number;
  currency: "GBP" | "EUR" | "USD";
  // ISO 8601 timestamp, or "" for invoices due on receipt
  dueAt: string;
}

const INVOICES: Invoice[] = [
  { id: "inv_1", client: "Acme Ltd", amountMinor: 125_000, currency: "GBP", dueAt: "2025-07-31T17:00:00Z" },
  { id: "inv_2", client: "Bergmann GmbH", amountMinor: 98_050, currency: "EUR", dueAt: "2025-07-01T01:30:00+02:00" },
  { id: "inv_3", client: "Walk-in client", amountMinor: 4_500, currency: "GBP", dueAt: "" },
];

export function findInvoice(id: string): Invoice | undefined {
  return INVOICES.find((invoice) => invoice.id === id);
}
