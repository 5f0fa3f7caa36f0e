VAT_RATE = 0.2


def vat_for(net_pence: int) -> int:
    """VAT on a net amount, rounded half up to the penny."""
    return int(net_pence * VAT_RATE + 0.5)
