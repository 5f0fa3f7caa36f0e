"""Amounts as the provider writes them ("12.50") and as we store them (pence)."""

from decimal import Decimal

SUPPORTED_CURRENCIES = frozenset({"GBP", "EUR"})


def to_pence(amount: str) -> int:
    """``"12.5"`` -> ``1250``; the provider never writes more than two decimals."""
    return int(Decimal(amount) * 100)
