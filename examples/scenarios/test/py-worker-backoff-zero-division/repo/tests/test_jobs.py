from worker import jobs


def test_daily_digest_for_daily_user():
    assert jobs.send_digest({"user_id": "usr_1", "cadence": "daily"}) == 1


def test_weekly_digest_skips_daily_user():
    assert jobs.send_digest({"user_id": "usr_1", "cadence": "weekly"}) == 0


def test_invoice_total():
    assert jobs.invoice_total({"invoice_id": "inv_1"}) == 1250


def test_backoff_doubles():
    assert [jobs.backoff_seconds(a) for a in (0, 1, 2)] == [30.0, 60.0, 120.0]
