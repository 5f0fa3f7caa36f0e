"""Jobs the ledger-sync worker runs, queued by the uploads service with the uploaded file's text."""

import re
from datetime import date
from decimal import Decimal

from ledger import store
from ledger.models import ImportResult, Transaction

# date,amount,description as the bank's portal exports it, e.g. 2026-11-02,-12.40,TESCO STORES 2231
ROW = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2}),(?P<amount>-?\d+\.\d{2}),(?P<description>.*)")
HEADER = "date,amount,description"
FOOTER = "Closing balance"


def import_statement(account_id: str, csv_text: str) -> ImportResult:
    """Import one uploaded bank statement into the account's ledger.

    The header, blank lines and the bank's "Closing balance" footer are skipped. A transaction row that
    does not parse is never imported: its line number (1-based) goes to ``rejected`` so finance can key
    it in by hand, and the rest of the statement is still imported. Rows the ledger already holds (a
    statement uploaded twice) are counted in ``duplicates``.
    """
    result = ImportResult(account_id=account_id)
    for number, raw in enumerate(csv_text.splitlines(), start=1):
        line = raw.strip()
        if not line or line == HEADER or line.startswith(FOOTER):
            continue
        row = ROW.match(line)
        transaction = Transaction(
            booked_on=date.fromisoformat(row.group("date")),
            pence=int(Decimal(row.group("amount")) * 100),
            description=row.group("description").strip(),
        )
        if store.add(account_id, transaction):
            result.imported += 1
        else:
            result.duplicates += 1
    return result
