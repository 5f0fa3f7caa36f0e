import { getPractice, insertOrder } from "@/lib/db";

interface OrderLine {
  sku: string;
  unitPence: number;
  quantity: number;
}

interface OrderRequest {
  practiceId: string;
  lines: OrderLine[];
  // absent for digital products (e-prescriptions, vouchers)
  delivery?: { address: { line1: string; postcode: string; country: string } };
}

const VAT = { GB: 0.2, IE: 0.23 } as Record<string, number>;

export async function POST(request: Request): Promise<Response> {
  const body = (await request.json()) as OrderRequest;
  if (!Array.isArray(body.lines) || body.lines.length === 0) {
    return Response.json({ error: "An order needs at least one line" }, { status: 422 });
  }
  const practice = await getPractice(body.practiceId);
  if (!practice) {
    return Response.json({ error: "Practice not found" }, { status: 404 });
  }
  const country = body.delivery?.address?.country ?? "GB";
  const subtotal = body.lines.reduce((sum, line) => sum + line.unitPence * line.quantity, 0);
  const vat = Math.round(subtotal * (VAT[country] ?? 0));
  const order = await insertOrder({
    practiceId: practice.id,
    userId: request.headers.get("x-user-id"),
    totalPence: subtotal + vat,
    vatPence: vat,
    country,
  });
  return Response.json(order, { status: 201 });
}
