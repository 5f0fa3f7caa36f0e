import { savingsPlan } from "@/lib/plans";

export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const plan = savingsPlan(url.searchParams.get("plan") ?? "basic");
  if (!plan) {
    return Response.json({ error: "unknown plan" }, { status: 404 });
  }
  const months = url.searchParams.get("months") ?? 12;
  const projectedPence = plan.monthlyPence * (months as number);
  return Response.json({ plan: plan.id, months: (months as number).toFixed(0), projectedPence });
}
