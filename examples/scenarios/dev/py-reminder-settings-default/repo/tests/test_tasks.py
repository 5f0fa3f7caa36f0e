from reminders.tasks import SENT, channels_on_offer, send_reminder


def test_a_reminder_goes_out_on_the_saved_channel():
    SENT.clear()
    assert send_reminder({"patient_id": "pat_1", "hours_left": "30"}) == 1
    assert SENT == [("pat_1", "email")]


def test_no_reminder_too_early():
    assert send_reminder({"patient_id": "pat_1", "hours_left": "72"}) == 0


def test_channels():
    assert channels_on_offer() == ["email", "sms"]
