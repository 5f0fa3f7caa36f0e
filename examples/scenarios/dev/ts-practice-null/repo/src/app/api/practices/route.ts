import { listPractices } from "@/lib/db";

export async function GET(): Promise<Response> {
  const { data, error } = await listPractices();
  if (error) {
    return Response.json({ error: error.message }, { status: 502 });
  }
  return Response.json((data ?? []).map((p) => ({ id: p.id, name: p.name, city: p.city })));
}
