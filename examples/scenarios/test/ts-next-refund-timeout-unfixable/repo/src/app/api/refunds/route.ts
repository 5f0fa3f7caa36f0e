import { refund } from "@/payments/provider";

export async function POST(request: Request): Promise<Response> {
  const { chargeId } = (await request.json()) as { chargeId: string };
  return Response.json(await refund(chargeId));
}
