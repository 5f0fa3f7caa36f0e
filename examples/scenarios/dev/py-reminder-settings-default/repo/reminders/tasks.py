from reminders.settings import DEFAULT_REMINDER_SETTINGS, saved_settings

SENT: list[tuple[str, str]] = []


def channels_on_offer() -> list[str]:
    return sorted({"sms", "email", str(DEFAULT_REMINDER_SETTINGS["channel"])})


def send_reminder(task: dict[str, str]) -> int:
    """Send one appointment reminder; returns how many messages went out.

    Patients who never saved their settings get the default reminder settings
    (an SMS, a day before).
    """
    settings = saved_settings(task["patient_id"])
    channel = str(settings["channel"])
    if int(task["hours_left"]) > int(settings["hours_before"]):
        return 0
    SENT.append((task["patient_id"], channel))
    return 1
