import { searchPractices } from "@/lib/db";

export async function GET(request: Request): Promise<Response> {
  const q = new URL(request.url).searchParams.get("q") ?? "";
  const results = await searchPractices(q);
  return Response.json({
    count: results.length,
    results: results.map((p) => ({ id: p.id, name: p.name, city: p.city, acceptingPatients: p.acceptingPatients })),
  });
}
