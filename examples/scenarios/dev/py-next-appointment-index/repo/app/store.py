"""Appointments as the booking service stores them (in memory here; Postgres in production)."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Appointment:
    id: str
    patient_id: str
    starts_at: datetime
    clinician: str
    cancelled: bool = False


APPOINTMENTS = [
    Appointment("apt_1", "pat_1", datetime(2025, 7, 2, 9, 30), "Dr. Osei"),
    Appointment("apt_2", "pat_1", datetime(2025, 6, 20, 14, 0), "Dr. Berg"),
    Appointment("apt_3", "pat_1", datetime(2025, 5, 1, 11, 0), "Dr. Osei"),
    Appointment("apt_4", "pat_2", datetime(2025, 6, 25, 16, 15), "Dr. Ferraro", cancelled=True),
]


def appointments_for(patient_id: str) -> list[Appointment]:
    return [a for a in APPOINTMENTS if a.patient_id == patient_id]
