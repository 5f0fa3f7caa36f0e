from dataclasses import dataclass, field


@dataclass(frozen=True)
class Clinician:
    id: str
    name: str
    specialty: str


@dataclass(frozen=True)
class Practice:
    id: str
    name: str
    city: str
    lead_clinician_id: str
    clinician_ids: tuple[str, ...] = field(default_factory=tuple)
