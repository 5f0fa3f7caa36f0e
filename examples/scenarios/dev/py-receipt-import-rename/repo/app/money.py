"""Money as the receipts print it: integer pence in, pounds text out."""


def format_pence(pence: int) -> str:
    """``1234`` -> ``"£12.34"``; negative amounts (refunds) keep their sign in front."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"
