import { getEvent } from "@/lib/events";

export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const event = await getEvent(id);
  return Response.json({ id, title: event.title, venue: event.venue.name, city: event.venue.city });
}
