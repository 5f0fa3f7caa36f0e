COURIERS = {"cou_1": "Sam", "cou_2": "Priya"}
STOPS: dict[str, list[dict[str, str]]] = {
    "cou_1": [
        {"postcode": "BS1 4DJ", "at": "08:10"},
        {"postcode": "BS8 1TH", "at": "08:55"},
    ],
}


def stops_today(courier_id: str) -> list[dict[str, str]]:
    """The courier's delivered stops today, oldest first (empty before the first drop)."""
    return list(STOPS.get(courier_id, []))
