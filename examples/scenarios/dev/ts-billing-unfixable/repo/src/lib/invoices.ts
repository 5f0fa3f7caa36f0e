export interface InvoiceLine {
  description: string;
  quantity: number;
  unitCents: number;
}

export interface Invoice {
  id: string;
  accountId: string;
  period: string;
  // The billing provider omits `lines` entirely for zero-usage periods.
  lines?: InvoiceLine[];
}

const INVOICES: Invoice[] = [
  {
    id: "in_1",
    accountId: "acct_1",
    period: "2025-06",
    lines: [
      { description: "Seats", quantity: 12, unitCents: 900 },
      { description: "API calls (per 1k)", quantity: 340, unitCents: 2 },
    ],
  },
  { id: "in_2", accountId: "acct_2", period: "2025-06" },
];

export async function latestInvoice(accountId: string): Promise<Invoice | undefined> {
  return INVOICES.find((invoice) => invoice.accountId === accountId);
}
