import { escapeText, foldLine } from "./text";

export interface CalendarEvent {
  uid: string;
  title: string;
  /** ISO 8601 start, e.g. "2026-12-03T09:30:00Z". */
  start: string;
  /** ISO 8601 end; absent for an open-ended hold, which is written without DTEND. */
  end?: string;
  location?: string;
}

const BASIC_FORMAT = /[-:]|\.\d{3}/g; // 2026-12-03T09:30:00.000Z -> 20261203T093000Z

/** The events as one iCalendar (RFC 5545) document: CRLF line endings, every time in UTC. */
export function toIcs(events: CalendarEvent[], now: Date = new Date()): string {
  const stamp = now.toISOString().replace(BASIC_FORMAT, "");
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//studio//calendar-kit 1.2//EN", "CALSCALE:GREGORIAN"];
  for (const event of events) {
    lines.push("BEGIN:VEVENT", `UID:${event.uid}`, `DTSTAMP:${stamp}`);
    lines.push(`DTSTART:${new Date(event.start).toISOString().replace(BASIC_FORMAT, "")}`);
    lines.push(`DTEND:${new Date(event.end).toISOString().replace(BASIC_FORMAT, "")}`);
    lines.push(`SUMMARY:${escapeText(event.title)}`);
    if (event.location) lines.push(`LOCATION:${escapeText(event.location)}`);
    lines.push("END:VEVENT");
  }
  lines.push("END:VCALENDAR");
  return lines.map(foldLine).join("\r\n") + "\r\n";
}
