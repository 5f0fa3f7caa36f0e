from fastapi import APIRouter, HTTPException

from app import db
from app.models import Practice

router = APIRouter()


def practice_payload(practice: Practice) -> dict[str, object]:
    return {"id": practice.id, "name": practice.name, "city": practice.city}


@router.get("/practices")
def list_practices() -> list[dict[str, object]]:
    return [practice_payload(p) for p in db.list_practices()]


@router.get("/practices/{practice_id}")
def read_practice(practice_id: str) -> dict[str, object]:
    practice = db.get_practice(practice_id)
    if practice is None:
        raise HTTPException(status_code=404, detail="Practice not found")
    return practice_payload(practice)
