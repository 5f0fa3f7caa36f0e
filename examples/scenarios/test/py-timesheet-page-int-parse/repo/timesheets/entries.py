from datetime import date

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from timesheets.pagination import Pagination

router = APIRouter(prefix="/projects/{project_id}/entries")


class Entry(BaseModel):
    consultant: str
    day: date
    hours: float = Field(gt=0, le=24)
    note: str = ""


ENTRIES: dict[str, list[Entry]] = {
    "prj_atlas": [
        Entry(consultant="m.okafor", day=date(2026, 11, day), hours=7.5, note=f"sprint {day // 7 + 1}")
        for day in range(2, 28)
    ],
    "prj_birch": [Entry(consultant="j.lindqvist", day=date(2026, 11, 16), hours=3.0, note="kick-off")],
}


def _project(project_id: str) -> list[Entry]:
    if project_id not in ENTRIES:
        raise HTTPException(status_code=404, detail="project not found")
    return ENTRIES[project_id]


@router.get("")
def list_entries(project_id: str, page: Pagination) -> dict[str, object]:
    entries = _project(project_id)
    return {"page": page.number, "per_page": page.size, "total": len(entries), "entries": page.slice(entries)}


@router.post("", status_code=201)
def log_entry(project_id: str, entry: Entry) -> Entry:
    _project(project_id).append(entry)
    return entry
