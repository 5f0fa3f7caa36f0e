PREFERENCES = {"usr_1": {"frequency": "daily", "email": "ada@example.com"}}
EMAILS = {"usr_1": "ada@example.com", "usr_2": "alan@example.com"}


def load_preferences(user_id: str) -> dict[str, str] | None:
    """The user's saved digest preferences, or None when they never saved any."""
    return PREFERENCES.get(user_id)
