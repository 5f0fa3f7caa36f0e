from datetime import datetime, time
from typing import Any

PREFERENCES: dict[str, dict[str, Any]] = {
    "usr_1": {"channel": "push", "quiet_hours": "22:00-07:00"},
    "usr_2": {"channel": "sms", "quiet_hours": None},
    "usr_3": {"channel": "push", "quiet_hours": "13:00-14:00"},
}


def quiet_window(prefs: dict[str, Any]) -> tuple[time, time] | None:
    """The user's quiet hours as (start, end), or None when they have none."""
    text = prefs.get("quiet_hours")
    if not text:
        return None
    start, end = (time.fromisoformat(part) for part in text.split("-"))
    return start, end


def in_window(moment: time, window: tuple[time, time]) -> bool:
    start, end = window
    return start <= moment < end if start < end else moment >= start or moment < end


def should_notify(user_id: str, at: datetime) -> bool:
    prefs = PREFERENCES.get(user_id, {})
    window = quiet_window(prefs)
    return window is None or not in_window(at.time(), window)
