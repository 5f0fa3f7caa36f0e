from worker import jobs


def test_discount_lines_count_once():
    assert jobs.invoice_total({"invoice_id": "inv_2"}) == 2500


def test_plain_invoices_are_unchanged():
    assert jobs.invoice_total({"invoice_id": "inv_1"}) == 1250
