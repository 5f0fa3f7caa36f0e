import { listPractices } from "@/lib/db";

export async function GET(): Promise<Response> {
  const practices = await listPractices();
  return Response.json(practices.map((p) => ({ id: p.id, name: p.name, city: p.city })));
}
