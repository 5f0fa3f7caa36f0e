import { getEvent } from "@/lib/events";

export async function GET(): Promise<Response> {
  const first = await getEvent("evt_1");
  return Response.json([{ id: first?.id, title: first?.title }]);
}
