import assert from "node:assert/strict";
import { test } from "node:test";

import { toIcs } from "../src/ics";

const NOW = new Date("2026-12-01T08:00:00Z");

test("an open-ended hold is written without DTEND", () => {
  const ics = toIcs([{ uid: "hold_88@studio", title: "Hold: Live room", start: "2026-12-10T14:00:00Z" }], NOW);
  assert.equal(
    ics,
    [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//studio//calendar-kit 1.2//EN",
      "CALSCALE:GREGORIAN",
      "BEGIN:VEVENT",
      "UID:hold_88@studio",
      "DTSTAMP:20261201T080000Z",
      "DTSTART:20261210T140000Z",
      "SUMMARY:Hold: Live room",
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n"),
  );
});

test("bookings beside a hold keep their DTEND", () => {
  const ics = toIcs(
    [
      { uid: "bk_401@studio", title: "Vocals", start: "2026-12-10T09:00:00Z", end: "2026-12-10T11:00:00Z" },
      { uid: "hold_89@studio", title: "Hold", start: "2026-12-10T12:00:00Z" },
    ],
    NOW,
  );
  assert.equal((ics.match(/^DTEND:/gm) ?? []).length, 1);
  assert.match(ics, /DTSTART:20261210T090000Z\r\nDTEND:20261210T110000Z\r\nSUMMARY:Vocals/);
  assert.match(ics, /DTSTART:20261210T120000Z\r\nSUMMARY:Hold\r\n/);
});
