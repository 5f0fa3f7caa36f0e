// Stand-in for the Supabase client: the same shape of result ({ data, error }) over in-memory rows.
export interface Practice {
  id: string;
  name: string;
  city: string;
  phone: string;
  opening_hours: { day: string; opens: string; closes: string }[];
}

const practices: Practice[] = [
  {
    id: "prc_100",
    name: "Riverside Health",
    city: "Leeds",
    phone: "0113 496 0000",
    opening_hours: [
      { day: "mon", opens: "08:00", closes: "18:30" },
      { day: "sat", opens: "09:00", closes: "12:00" },
    ],
  },
  { id: "prc_101", name: "Northgate Family Clinic", city: "York", phone: "01904 496 111", opening_hours: [] },
];

export interface Result<T> {
  data: T | null;
  error: { message: string } | null;
}

export async function getPractice(id: string): Promise<Result<Practice>> {
  return { data: practices.find((p) => p.id === id) ?? null, error: null };
}

export async function listPractices(): Promise<Result<Practice[]>> {
  return { data: [...practices].sort((a, b) => a.name.localeCompare(b.name)), error: null };
}
