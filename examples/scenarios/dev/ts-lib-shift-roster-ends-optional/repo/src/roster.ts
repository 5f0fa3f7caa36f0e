// The plain-text roster the rota bot sends to each site's channel every morning.

import type { Shift } from "./types";

const clock = (iso: string): string => new Date(iso).toISOString().slice(11, 16);

export function rosterText(site: string, day: Date, shifts: Shift[]): string {
  const lines = [`Roster for ${site}, ${day.toISOString().slice(0, 10)}`];
  const sorted = [...shifts].sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  for (const shift of sorted) {
    lines.push(`* ${shift.person}`);
    lines.push(`  from ${new Date(shift.startsAt).toISOString().slice(11, 16)} UTC`);
    if (shift.role) lines.push(`  as ${shift.role}`);
    lines.push(`  until ${new Date(shift.endsAt).toISOString().slice(11, 16)} UTC`);
    if (shift.site && shift.site !== site) lines.push(`  at ${shift.site}`);
  }
  lines.push(`${sorted.length} shift(s); first handover ${sorted.length ? clock(sorted[0].startsAt) : "none"}`);
  return lines.join("\n");
}
