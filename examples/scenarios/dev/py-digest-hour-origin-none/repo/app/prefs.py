"""Readers' saved delivery preferences."""

DEFAULT_DIGEST_HOUR = 8

SETTINGS: dict[str, dict[str, int]] = {
    "rdr_101": {"digest_hour": 6},
    "rdr_102": {"digest_hour": 19},
    "rdr_103": {},
}


def digest_hour(reader_id: str) -> int:
    """The hour (0-23, UTC) the reader's daily digest goes out; 8 when they never chose one."""
    return SETTINGS.get(reader_id, {}).get("digest_hour", DEFAULT_DIGEST_HOUR)
