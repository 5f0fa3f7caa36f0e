from worker.prefs import EMAILS, load_preferences
from worker.store import invoice_lines

DEFAULT_FREQUENCY = "weekly"
OUTBOX: list[tuple[str, str]] = []


def send_digest(job: dict[str, str]) -> int:
    """Send one user's digest if it is due; return the number of emails sent.

    Users who never saved preferences get the default (weekly) digest.
    """
    prefs = load_preferences(job["user_id"])
    if prefs["frequency"] != job["cadence"]:
        return 0
    OUTBOX.append((EMAILS[job["user_id"]], f"Your {job['cadence']} digest"))
    return 1


def invoice_total(job: dict[str, str]) -> int:
    """Total of an invoice in pence: quantity times unit price; discount lines have no quantity."""
    return sum(line.get("qty", 1) * line["unit_pence"] for line in invoice_lines(job["invoice_id"]))


def backoff_seconds(attempt: int, base: float = 30.0) -> float:
    """Seconds to wait before retry ``attempt`` (0 is the first retry): doubling, capped at an hour."""
    return min(base * 2**attempt, 3600.0)
