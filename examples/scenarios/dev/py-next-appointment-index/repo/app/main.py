from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query

from app.store import Appointment, appointments_for

app = FastAPI(title="clinic-bookings")


def as_json(appointment: Appointment) -> dict[str, Any]:
    return {"id": appointment.id, "starts_at": appointment.starts_at.isoformat(), "clinician": appointment.clinician}


def upcoming(patient_id: str, now: datetime) -> list[Appointment]:
    """Future, not cancelled appointments, soonest first."""
    future = [a for a in appointments_for(patient_id) if a.starts_at > now and not a.cancelled]
    return sorted(future, key=lambda a: a.starts_at)


@app.get("/patients/{patient_id}/appointments/upcoming")
def list_upcoming(patient_id: str, now: datetime = Query(default_factory=datetime.now)) -> list[dict[str, Any]]:
    return [as_json(a) for a in upcoming(patient_id, now)]
