"""In-memory stand-in for the practices tables (the real service reads Postgres)."""

from app.models import Clinician, Practice

_CLINICIANS = {
    "cln_1": Clinician(id="cln_1", name="Dr. Amara Osei", specialty="general practice"),
    "cln_2": Clinician(id="cln_2", name="Dr. Jonas Berg", specialty="dermatology"),
    "cln_3": Clinician(id="cln_3", name="Dr. Lucia Ferraro", specialty="paediatrics"),
}

_PRACTICES = {
    "prc_100": Practice(id="prc_100", name="Riverside Health", city="Leeds", lead_clinician_id="cln_1",
                        clinician_ids=("cln_1", "cln_2")),
    "prc_101": Practice(id="prc_101", name="Northgate Family Clinic", city="York", lead_clinician_id="cln_3",
                        clinician_ids=("cln_3",)),
}


def list_practices() -> list[Practice]:
    return sorted(_PRACTICES.values(), key=lambda p: p.name)


def get_practice(practice_id: str) -> Practice | None:
    """The practice with this id, or None when there is none."""
    return _PRACTICES.get(practice_id)


def get_clinician(clinician_id: str) -> Clinician | None:
    return _CLINICIANS.get(clinician_id)
