from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException

MEMBERS: dict[str, dict[str, Any]] = {
    "m_1": {"name": "Ada", "loans": [("Middlemarch", "2025-08-01"), ("Kindred", "2025-08-09")]},
    "m_2": {"name": "Grace", "loans": []},
}

router = APIRouter(prefix="/members")


def member(member_id: str) -> dict[str, Any]:
    found = MEMBERS.get(member_id)
    if found is None:
        raise HTTPException(status_code=404, detail="member not found")
    return found


@router.get("/{member_id}/loan-count")
def loan_count(member_id: str) -> dict[str, Any]:
    loans = member(member_id)["loans"]
    if len(loans) == 0:
        raise HTTPException(status_code=404, detail="no loans yet")
    return {"member": member_id, "loans": len(loans)}


@router.get("/{member_id}/last-loan")
def last_loan(member_id: str) -> dict[str, Any]:
    title, due = member(member_id)["loans"][-1]
    return {"title": title, "due": due}


app = FastAPI(title="library-members")
app.include_router(router)
