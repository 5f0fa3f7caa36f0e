import { getPractice } from "@/lib/db";

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const practice = await getPractice(id);
  if (!practice) {
    return Response.json({ error: "Practice not found" }, { status: 404 });
  }
  return Response.json({
    id: practice.id,
    name: practice.name,
    city: practice.city,
    phone: practice.phone,
    specialties: practice.specialties,
  });
}
