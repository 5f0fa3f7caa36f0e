from payouts.importer import HEADER, import_payouts
from payouts.money import to_pence


def statement(*lines: str) -> str:
    return "\n".join((HEADER, *lines)) + "\n"


def test_every_payout_line_is_imported():
    result = import_payouts(statement("2025-06-02,sel_104,120.00,GBP", "2025-06-02,sel_233,8.5,EUR"))
    assert result == {
        "imported": [
            {"line": 2, "seller": "sel_104", "pence": 12000, "currency": "GBP", "paid_on": "2025-06-02"},
            {"line": 3, "seller": "sel_233", "pence": 850, "currency": "EUR", "paid_on": "2025-06-02"},
        ],
        "rejected": [],
    }


def test_bad_payouts_are_rejected_and_the_rest_imported():
    result = import_payouts(
        statement(
            "2025-06-02,,40.00,GBP",
            "2025-06-02,sel_104,-3.20,GBP",
            "2025-06-02,sel_104,15.00,USD",
            "2025-06-03,sel_871,9.99,GBP",
        )
    )
    assert [r["line"] for r in result["rejected"]] == [2, 3, 4]
    assert result["imported"] == [{"line": 5, "seller": "sel_871", "pence": 999, "currency": "GBP", "paid_on": "2025-06-03"}]


def test_an_empty_statement_imports_nothing():
    assert import_payouts(HEADER + "\n") == {"imported": [], "rejected": []}


def test_amounts_in_pence():
    assert to_pence("0.07") == 7
    assert to_pence("19") == 1900
