export interface Feedback {
  id: string;
  page: string;
  rating: 1 | 2 | 3 | 4 | 5;
  comment: string;
  receivedAt: string;
}

const received: Feedback[] = [];
let counter = 0;

export async function saveFeedback(entry: Omit<Feedback, "id" | "receivedAt">): Promise<Feedback> {
  counter += 1;
  const saved = { ...entry, id: `fb_${String(counter).padStart(4, "0")}`, receivedAt: new Date().toISOString() };
  received.push(saved);
  return saved;
}

export async function feedbackFor(page: string): Promise<Feedback[]> {
  return received.filter((f) => f.page === page);
}
