import { basketCount, cartItems } from "@/lib/cart";

export async function GET(request: Request): Promise<Response> {
  const cartId = new URL(request.url).searchParams.get("cart") ?? "";
  return Response.json({ count: basketCount(cartItems(cartId)) });
}
