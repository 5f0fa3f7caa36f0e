export interface Poll {
  id: string;
  question: string;
  closed: boolean;
  // Each ballot's weight in thousandths of a share (weights can exceed 2^53 for large holders).
  ballotWeights: string[];
}

const POLLS: Poll[] = [
  { id: "pl_1", question: "Adopt the new bylaws?", closed: true, ballotWeights: ["1000", "2500", "1500"] },
  { id: "pl_2", question: "Move the AGM to June?", closed: false, ballotWeights: [] },
];

export function findPoll(id: string): Poll | undefined {
  return POLLS.find((poll) => poll.id === id);
}
