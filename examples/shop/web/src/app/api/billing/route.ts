// Protected path (medic.toml): billing changes need a human. Invoices per practice account.
const INVOICES: Record<string, { id: string; period: string; amountPence: number; paid: boolean }[]> = {
  prc_100: [
    { id: "inv_2025_05", period: "2025-05", amountPence: 49_00, paid: true },
    { id: "inv_2025_06", period: "2025-06", amountPence: 49_00, paid: false },
  ],
};

export async function GET(request: Request): Promise<Response> {
  const account = request.headers.get("x-practice-id");
  if (!account) {
    return Response.json({ error: "No practice account" }, { status: 401 });
  }
  const invoices = INVOICES[account] ?? [];
  return Response.json({ invoices, outstandingPence: invoices.filter((i) => !i.paid).reduce((s, i) => s + i.amountPence, 0) });
}
