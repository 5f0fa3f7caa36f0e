STANDARD_RATE_PER_KG = 4.5
ZONE_RATES = {"UK": 2.0, "EU": 3.5, "US": 6.0}


def shipping_cost(zone: str, weight_kg: float) -> float:
    """Shipping in pounds: the zone's rate per kg times the weight.

    Zones without their own rate ship at the standard rate.
    """
    rate = ZONE_RATES[zone] if zone in ZONE_RATES else STANDARD_RATE_PER_KG
    return round(rate * weight_kg, 2)
