"""In-memory stand-in for the Supabase tables the API reads (reviews, appointments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Review:
    practice_id: str
    stars: int
    text: str


@dataclass(frozen=True)
class Appointment:
    id: str
    patient_id: str
    practice_id: str
    starts_at: datetime
    cancelled: bool = False


REVIEWS: list[Review] = [
    Review("prc_100", 5, "Seen on time, lovely staff."),
    Review("prc_100", 4, "Good, parking is hard."),
    Review("prc_101", 3, "Long wait."),
    Review("prc_102", 5, "Excellent."),
    Review("prc_102", 5, "Best surgery in town."),
    Review("prc_102", 2, "Phone lines always busy."),
]

APPOINTMENTS: list[Appointment] = [
    Appointment("apt_1", "pat_1", "prc_100", datetime(2031, 3, 4, 9, 30)),
    Appointment("apt_2", "pat_1", "prc_100", datetime(2030, 11, 20, 14, 0)),
    Appointment("apt_3", "pat_1", "prc_101", datetime(2024, 1, 10, 11, 0)),
    Appointment("apt_4", "pat_2", "prc_102", datetime(2031, 1, 5, 16, 15), cancelled=True),
    Appointment("apt_5", "pat_3", "prc_102", datetime(2030, 6, 1, 8, 45)),
]

KNOWN_PRACTICES = {f"prc_{n}" for n in range(100, 140)}


def reviews_for(practice_id: str) -> list[Review]:
    return [r for r in REVIEWS if r.practice_id == practice_id]


def appointments_for(patient_id: str) -> list[Appointment]:
    return [a for a in APPOINTMENTS if a.patient_id == patient_id]
