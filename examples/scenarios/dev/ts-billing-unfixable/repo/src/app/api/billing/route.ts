import { latestInvoice } from "@/lib/invoices";

export async function GET(request: Request): Promise<Response> {
  const accountId = request.headers.get("x-account-id");
  if (!accountId) {
    return Response.json({ error: "No account" }, { status: 401 });
  }
  const invoice = await latestInvoice(accountId);
  if (!invoice) {
    return Response.json({ error: "No invoice yet" }, { status: 404 });
  }
  const lines = invoice.lines!.map((line) => ({ ...line, totalCents: line.quantity * line.unitCents }));
  const totalCents = lines.reduce((sum, line) => sum + line.totalCents, 0);
  return Response.json({ id: invoice.id, period: invoice.period, lines, totalCents });
}
