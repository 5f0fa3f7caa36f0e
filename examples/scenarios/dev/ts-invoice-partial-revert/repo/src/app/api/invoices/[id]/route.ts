import { formatDueDate, formatMoney } from "@/lib/format";
import { findInvoice } from "@/lib/invoices";

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const invoice = findInvoice(id);
  if (!invoice) {
    return Response.json({ error: "Invoice not found" }, { status: 404 });
  }
  return Response.json({
    id: invoice.id,
    client: invoice.client,
    amount: formatMoney(invoice.amountMinor),
    due: formatDueDate(invoice.dueAt),
  });
}
