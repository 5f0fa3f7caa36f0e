# Opening hours per practice, Monday first (index 0) through Sunday (index 6); None = closed.
OPENING_HOURS: dict[str, list[tuple[str, str] | None]] = {
    "prc_100": [
        ("08:00", "18:30"),
        ("08:00", "18:30"),
        ("08:00", "20:00"),
        ("08:00", "18:30"),
        ("08:00", "17:00"),
        ("09:00", "12:00"),
        None,
    ],
    "prc_101": [("09:00", "17:00")] * 5 + [None, None],
}

DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
