// Stand-in for the Supabase client: in-memory tables, the same nullable results, and a per-query
// latency (SHOP_DB_LATENCY_MS, default 2 ms) so query counts show up in response times like a real database.
export interface Practice {
  id: string;
  name: string;
  city: string;
  phone: string;
  specialties: string[];
}

export interface PracticeDetails extends Practice {
  clinicians: number;
  acceptingPatients: boolean;
}

export interface Order {
  id: string;
  practiceId: string;
  userId: string | null;
  totalPence: number;
  vatPence: number;
  country: string;
  createdAt: string;
}

const CITIES = ["Leeds", "York", "Bristol", "Manchester", "Glasgow", "Cardiff", "Norwich", "Brighton"];
const SPECIALTIES = ["general practice", "dermatology", "paediatrics", "physiotherapy", "dentistry"];

const practices: Practice[] = Array.from({ length: 40 }, (_, i) => ({
  id: `prc_${100 + i}`,
  name: `${["Riverside", "Northgate", "Hillview", "Parkside", "Harbour"][i % 5]} ${["Health", "Clinic", "Practice", "Surgery"][i % 4]} ${i + 1}`,
  city: CITIES[i % CITIES.length],
  phone: `0113 496 ${String(1000 + i).padStart(4, "0")}`,
  specialties: [SPECIALTIES[i % SPECIALTIES.length], SPECIALTIES[(i + 2) % SPECIALTIES.length]],
}));

const orders: Order[] = [];

function latencyMs(): number {
  const value = Number(process.env.SHOP_DB_LATENCY_MS ?? "2");
  return Number.isFinite(value) && value > 0 ? value : 0;
}

async function query<T>(result: () => T): Promise<T> {
  const delay = latencyMs();
  if (delay > 0) {
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  return result();
}

/** The practice with this id, or null when there is none (like `.maybeSingle()`). */
export async function getPractice(id: string): Promise<Practice | null> {
  return query(() => practices.find((p) => p.id === id) ?? null);
}

export async function listPractices(): Promise<Practice[]> {
  return query(() => [...practices].sort((a, b) => a.name.localeCompare(b.name)));
}

/** Practices whose name, city or specialty contains `text`, with details (one query). */
export async function searchPractices(text: string): Promise<PracticeDetails[]> {
  const needle = text.trim().toLowerCase();
  return query(() =>
    practices
      .filter((p) => [p.name, p.city, ...p.specialties].some((field) => field.toLowerCase().includes(needle)))
      .map((p) => details(p)),
  );
}

/** Details of one practice (one query). */
export async function getPracticeDetails(id: string): Promise<PracticeDetails | null> {
  return query(() => {
    const practice = practices.find((p) => p.id === id);
    return practice ? details(practice) : null;
  });
}

function details(practice: Practice): PracticeDetails {
  const n = Number(practice.id.slice(4));
  return { ...practice, clinicians: 2 + (n % 7), acceptingPatients: n % 3 !== 0 };
}

export async function insertOrder(order: Omit<Order, "id" | "createdAt">): Promise<Order> {
  return query(() => {
    const row = { ...order, id: `ord_${1000 + orders.length}`, createdAt: new Date().toISOString() };
    orders.push(row);
    return row;
  });
}
