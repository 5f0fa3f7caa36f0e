import * as seats from "@/lib/seats";

export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const row = url.searchParams.get("row");
  const seat = Number(url.searchParams.get("seat"));
  if (!row || !Number.isInteger(seat)) {
    return Response.json({ error: "row and seat are required" }, { status: 400 });
  }
  return Response.json({ label: seats.formatSeat(row, seat) });
}
