"""Per-patient reminder settings, as saved from the patient portal."""

DEFAULT_REMINDER_SETTINGS: dict[str, object] = {"channel": "sms", "hours_before": 24}

SAVED: dict[str, dict[str, object]] = {
    "pat_1": {"channel": "email", "hours_before": 48},
}


def saved_settings(patient_id: str) -> dict[str, object] | None:
    """The patient's saved settings; None when they never saved any."""
    return SAVED.get(patient_id)
