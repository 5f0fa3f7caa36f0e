from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Transaction:
    booked_on: date
    pence: int
    description: str


@dataclass
class ImportResult:
    account_id: str
    imported: int = 0
    duplicates: int = 0
    rejected: list[int] = field(default_factory=list)
