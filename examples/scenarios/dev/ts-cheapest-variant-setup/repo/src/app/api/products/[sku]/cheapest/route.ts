import { variantsOf } from "@/lib/catalog";
import { cheapestInStock } from "@/lib/variants";

export async function GET(request: Request, { params }: { params: Promise<{ sku: string }> }): Promise<Response> {
  const { sku } = await params;
  const variants = variantsOf(sku);
  if (!variants) {
    return Response.json({ error: "Unknown product" }, { status: 404 });
  }
  const cheapest = cheapestInStock(variants);
  return Response.json({ sku, variant: cheapest.variant, pricePence: cheapest.pricePence });
}
