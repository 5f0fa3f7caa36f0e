from worker import jobs


def test_user_without_preferences_gets_the_default_weekly_digest():
    assert jobs.send_digest({"user_id": "usr_2", "cadence": "weekly"}) == 1
    assert jobs.send_digest({"user_id": "usr_2", "cadence": "daily"}) == 0


def test_saved_preferences_are_unchanged():
    assert jobs.send_digest({"user_id": "usr_1", "cadence": "daily"}) == 1
