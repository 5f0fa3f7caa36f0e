export interface Venue {
  name: string;
  city: string;
}

export interface Event {
  id: string;
  title: string;
  venue: Venue;
  capacity: number;
  soldPence: number[];
}

const events: Event[] = [
  { id: "evt_1", title: "Jazz at Dusk", venue: { name: "The Crypt", city: "Bristol" }, capacity: 120, soldPence: [2500, 2500, 1800] },
  { id: "evt_2", title: "Poetry Slam", venue: { name: "Old Library", city: "Bath" }, capacity: 60, soldPence: [] },
];

export async function getEvent(id: string): Promise<Event | null> {
  return events.find((e) => e.id === id) ?? null;
}
