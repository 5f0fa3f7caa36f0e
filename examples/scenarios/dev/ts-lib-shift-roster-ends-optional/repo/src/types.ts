// A rota's shifts as the planner exports them.

export interface Shift {
  person: string;
  startsAt: string; // ISO timestamp
  endsAt?: string; // ISO timestamp; an open shift (on call until relieved) has none
  role?: string;
  site?: string;
}
