export interface LunchPoll {
  id: string;
  closesAt: string;
  options: string[];
}

const TODAY: LunchPoll = { id: "lunch-2025-07-22", closesAt: "2025-07-22T11:30:00Z", options: ["thai", "pizza", "salad"] };
const votes = new Map<string, string>();

export function currentPoll(): LunchPoll {
  return TODAY;
}

/** Record (or change) one voter's choice and return the tally of today's poll. */
export function castVote(voter: string, choice: string): Record<string, number> {
  votes.set(voter, choice);
  const tally = Object.fromEntries(TODAY.options.map((option) => [option, 0]));
  for (const picked of votes.values()) {
    tally[picked] += 1;
  }
  return tally;
}
