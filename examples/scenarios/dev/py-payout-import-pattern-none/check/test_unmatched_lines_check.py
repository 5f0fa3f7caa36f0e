from payouts.importer import HEADER, import_payouts


def statement(*lines: str) -> str:
    return "\n".join((HEADER, *lines)) + "\n"


def assert_rejected(result: dict[str, list[dict[str, object]]], lines: list[int]) -> None:
    assert [r["line"] for r in result["rejected"]] == lines
    for entry in result["rejected"]:
        assert set(entry) == {"line", "reason"}, "a rejected line is reported the way the importer reports the others"
        assert isinstance(entry["reason"], str) and entry["reason"]


def test_a_header_repeated_mid_file_is_rejected_and_the_rest_imported():
    result = import_payouts(
        statement(
            "2025-06-02,sel_104,120.00,GBP",
            "2025-06-02,sel_233,8.50,EUR",
            HEADER,
            "2025-06-03,sel_871,9.99,GBP",
        )
    )
    assert result["imported"] == [
        {"line": 2, "seller": "sel_104", "pence": 12000, "currency": "GBP", "paid_on": "2025-06-02"},
        {"line": 3, "seller": "sel_233", "pence": 850, "currency": "EUR", "paid_on": "2025-06-02"},
        {"line": 5, "seller": "sel_871", "pence": 999, "currency": "GBP", "paid_on": "2025-06-03"},
    ]
    assert_rejected(result, [4])


def test_a_blank_line_is_rejected_like_the_other_bad_lines():
    result = import_payouts(
        statement(
            "2025-06-02,sel_104,120.00,GBP",
            "  ",
            "2025-06-02,,40.00,GBP",
            "2025-06-03,sel_871,9.99,GBP",
        )
    )
    assert [p["line"] for p in result["imported"]] == [2, 5]
    assert_rejected(result, [3, 4])


def test_good_statements_are_unchanged():
    result = import_payouts(statement("2025-06-02,sel_104,-3.20,GBP", "2025-06-03,sel_871,9.99,GBP"))
    assert result["imported"] == [{"line": 3, "seller": "sel_871", "pence": 999, "currency": "GBP", "paid_on": "2025-06-03"}]
    assert_rejected(result, [2])
