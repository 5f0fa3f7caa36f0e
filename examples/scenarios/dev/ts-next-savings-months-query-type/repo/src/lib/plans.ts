export interface Plan {
  id: string;
  monthlyPence: number;
}

const PLANS: Plan[] = [
  { id: "basic", monthlyPence: 2500 },
  { id: "plus", monthlyPence: 10000 },
];

export function savingsPlan(id: string): Plan | undefined {
  return PLANS.find((plan) => plan.id === id);
}
