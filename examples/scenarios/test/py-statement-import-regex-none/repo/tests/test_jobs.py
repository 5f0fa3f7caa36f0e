from datetime import date

from ledger import store
from ledger.jobs import import_statement
from ledger.models import ImportResult, Transaction

STATEMENT = """date,amount,description
2026-11-02,-12.40,TESCO STORES 2231
2026-11-03,1850.00,SALARY ACME LTD

Closing balance,4120.55
"""


def test_imports_every_transaction_row():
    assert import_statement("acc_1", STATEMENT) == ImportResult(account_id="acc_1", imported=2)
    assert store.transactions("acc_1") == [
        Transaction(date(2026, 11, 2), -1240, "TESCO STORES 2231"),
        Transaction(date(2026, 11, 3), 185000, "SALARY ACME LTD"),
    ]


def test_a_statement_uploaded_twice_adds_nothing():
    import_statement("acc_2", STATEMENT)
    assert import_statement("acc_2", STATEMENT) == ImportResult(account_id="acc_2", duplicates=2)
    assert len(store.transactions("acc_2")) == 2


def test_descriptions_keep_their_commas():
    result = import_statement("acc_3", "2026-11-04,-3.10,PRET A MANGER, KINGS CROSS\n")
    assert result.imported == 1
    assert store.transactions("acc_3")[0].description == "PRET A MANGER, KINGS CROSS"
