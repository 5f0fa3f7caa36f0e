from datetime import date

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import select

from warranty.db import DbSession
from warranty.models import Claim

router = APIRouter(prefix="/claims", tags=["claims"])

STATUSES = ("received", "in_repair", "repaired", "rejected", "returned")


class StatusChange(BaseModel):
    status: str


def _find(db: DbSession, reference: str) -> Claim | None:
    return db.scalar(select(Claim).where(Claim.reference == reference))


@router.get("/{reference}")
def read_claim(reference: str, db: DbSession) -> dict[str, object]:
    claim = _find(db, reference)
    months = claim.product.warranty_months
    return {
        "reference": claim.reference,
        "product": claim.product.name,
        "serial": claim.serial,
        "status": claim.status,
        "fault": claim.fault,
        "in_warranty_until": _add_months(claim.purchased_on, months).isoformat(),
    }


@router.patch("/{reference}")
def change_status(reference: str, change: StatusChange, db: DbSession) -> dict[str, str]:
    if change.status not in STATUSES:
        raise HTTPException(status_code=422, detail=f"status must be one of {', '.join(STATUSES)}")
    claim = _find(db, reference)
    if claim is None:
        raise HTTPException(status_code=404, detail="Claim not found")
    claim.status = change.status
    db.commit()
    return {"reference": claim.reference, "status": claim.status}


def _add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    return start.replace(year=start.year + year, month=month + 1, day=min(start.day, 28))
