from worker import jobs


def test_first_retry_waits_a_number_of_seconds():
    first = jobs.backoff_seconds(0)
    assert isinstance(first, float) and 30.0 <= first <= 60.0


def test_backoff_still_doubles_and_caps():
    assert jobs.backoff_seconds(20) == 3600.0
    assert jobs.backoff_seconds(3) >= 240.0
