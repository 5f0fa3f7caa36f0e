import assert from "node:assert/strict";
import { test } from "node:test";

import { toIcs } from "../src/ics";
import { escapeText, foldLine } from "../src/text";

const NOW = new Date("2026-12-01T08:00:00Z");

test("a booking as one VEVENT", () => {
  const ics = toIcs(
    [{ uid: "bk_301@studio", title: "Mix session, room 2", start: "2026-12-03T09:30:00Z", end: "2026-12-03T12:00:00Z", location: "Room 2" }],
    NOW,
  );
  assert.equal(
    ics,
    [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//studio//calendar-kit 1.2//EN",
      "CALSCALE:GREGORIAN",
      "BEGIN:VEVENT",
      "UID:bk_301@studio",
      "DTSTAMP:20261201T080000Z",
      "DTSTART:20261203T093000Z",
      "DTEND:20261203T120000Z",
      "SUMMARY:Mix session\\, room 2",
      "LOCATION:Room 2",
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n"),
  );
});

test("times with an offset are written in UTC", () => {
  const ics = toIcs([{ uid: "bk_302@studio", title: "Tracking", start: "2026-12-04T10:00:00+01:00", end: "2026-12-04T13:00:00+01:00" }], NOW);
  assert.match(ics, /DTSTART:20261204T090000Z\r\nDTEND:20261204T120000Z/);
});

test("an empty calendar", () => {
  assert.equal(toIcs([], NOW).split("\r\n").length, 6);
});

test("text escaping and folding", () => {
  assert.equal(escapeText("a;b,c\nd"), "a\\;b\\,c\\nd");
  const folded = foldLine("SUMMARY:" + "x".repeat(100));
  assert.deepEqual(folded.split("\r\n").map((l) => l.length), [75, 34]);
});
