from datetime import date

from stock.counts import Count, load_counts


def test_every_counted_bin_is_loaded():
    result = load_counts("LDN1", "A01-03;SKU-104;2026-02-27;12\nB12-01;SKU-233;2026-02-27;0\n")
    assert result.counts == [
        Count(bin="LDN1/A01-03", sku="SKU-104", counted_on=date(2026, 2, 27), quantity=12),
        Count(bin="LDN1/B12-01", sku="SKU-233", counted_on=date(2026, 2, 27), quantity=0),
    ]
    assert result.errors == []


def test_a_bad_date_or_a_negative_count_is_reported_and_the_rest_loaded():
    result = load_counts("LDN1", "A01-03;SKU-104;27/02/2026;12\nA01-04;SKU-105;2026-02-27;-2\nA01-05;SKU-106;2026-02-27;7\n")
    assert [c.sku for c in result.counts] == ["SKU-106"]
    assert result.errors == ["line 1: Invalid isoformat string: '27/02/2026'", "line 2: a count cannot be negative"]
