"""The accounts' ledgers (in memory here; the deployed worker writes to the ledger database)."""

from collections import defaultdict

from ledger.models import Transaction

_LEDGERS: dict[str, list[Transaction]] = defaultdict(list)


def add(account_id: str, transaction: Transaction) -> bool:
    """Append a transaction; False (and nothing written) when the ledger already holds it."""
    ledger = _LEDGERS[account_id]
    if transaction in ledger:
        return False
    ledger.append(transaction)
    return True


def transactions(account_id: str) -> list[Transaction]:
    return list(_LEDGERS[account_id])
