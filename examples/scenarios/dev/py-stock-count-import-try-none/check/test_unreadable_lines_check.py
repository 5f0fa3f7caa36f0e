from datetime import date

from stock.counts import Count, load_counts


def test_a_line_the_scanner_garbled_is_reported_with_its_number_and_the_rest_loaded():
    result = load_counts("LDN1", "A01-03;SKU-104;2026-02-27;12\nA01-04 SKU-105 2026-02-27 3\nB12-01;SKU-233;2026-02-27;4\n")
    assert result.counts == [
        Count(bin="LDN1/A01-03", sku="SKU-104", counted_on=date(2026, 2, 27), quantity=12),
        Count(bin="LDN1/B12-01", sku="SKU-233", counted_on=date(2026, 2, 27), quantity=4),
    ]
    assert len(result.errors) == 1
    assert result.errors[0].startswith("line 2: "), "reported the way the loader reports its other bad lines"


def test_a_blank_line_and_a_header_are_reported_not_fatal():
    result = load_counts("MAN2", "bin;sku;counted;quantity\n\nC03-02;SKU-871;2026-03-01;9\n")
    assert [c.sku for c in result.counts] == ["SKU-871"]
    assert [e.split(":")[0] for e in result.errors] == ["line 1", "line 2"]


def test_good_exports_and_the_other_errors_are_unchanged():
    result = load_counts("LDN1", "A01-03;SKU-104;27/02/2026;12\nA01-04;SKU-105;2026-02-27;-2\nA01-05;SKU-106;2026-02-27;7\n")
    assert [c.sku for c in result.counts] == ["SKU-106"]
    assert result.errors == ["line 1: Invalid isoformat string: '27/02/2026'", "line 2: a count cannot be negative"]
