import { castVote, currentPoll } from "@/lib/lunch";

// Today's team lunch poll. The Slack shortcut and the web page POST { "choice": "<option>" }.
export async function POST(request: Request): Promise<Response> {
  const voter = request.headers.get("x-voter") ?? "anonymous";
  const body: { choice?: string } | null = await request.json();
  const choice = body?.choice?.trim().toLowerCase();
  if (!choice) {
    return Response.json({ error: "choice is required" }, { status: 400 });
  }
  const poll = currentPoll();
  if (!poll.options.includes(choice)) {
    return Response.json({ error: `choice must be one of: ${poll.options.join(", ")}` }, { status: 400 });
  }
  return Response.json({ poll: poll.id, voter, choice, tally: castVote(voter, choice) });
}
