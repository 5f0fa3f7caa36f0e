from datetime import date

from ledger import store
from ledger.jobs import import_statement
from ledger.models import ImportResult, Transaction

WITH_PENDING = """date,amount,description
2026-11-18,-4.20,PRET A MANGER
2026-11-19,,PENDING CARD PAYMENT TFL TRAVEL
2026-11-19,-61.99,AMAZON MKTPLACE
Closing balance,903.12
"""


def test_a_row_that_does_not_parse_is_rejected_by_line_number_and_the_rest_imported():
    assert import_statement("acc_chk_1", WITH_PENDING) == ImportResult(account_id="acc_chk_1", imported=2, rejected=[3])
    assert store.transactions("acc_chk_1") == [
        Transaction(date(2026, 11, 18), -420, "PRET A MANGER"),
        Transaction(date(2026, 11, 19), -6199, "AMAZON MKTPLACE"),
    ]


def test_a_clean_statement_imports_as_before():
    assert import_statement("acc_chk_2", "2026-11-20,15.00,REFUND\n") == ImportResult(account_id="acc_chk_2", imported=1)
