import { findPoll } from "@/lib/polls";

type Turnout = {
  ballots: number;
  meanWeight: number | null;
  closed: boolean;
};

export async function GET(_request: Request, context: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await context.params;
  const poll = findPoll(id);
  if (poll === undefined) {
    return Response.json({ error: "Poll not found" }, { status: 404 });
  }
  const weightSum = poll.ballotWeights.reduce((acc, w) => acc + BigInt(w), 0n);
  const turnout: Turnout = {
    ballots: poll.ballotWeights.length,
    meanWeight: Number(weightSum / BigInt(poll.ballotWeights.length)),
    closed: poll.closed,
  };
  return Response.json(turnout);
}
