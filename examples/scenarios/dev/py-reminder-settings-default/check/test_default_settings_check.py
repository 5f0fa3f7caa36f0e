from reminders.tasks import SENT, send_reminder


def test_a_patient_without_saved_settings_gets_the_default_sms_a_day_before():
    SENT.clear()
    assert send_reminder({"patient_id": "pat_7", "hours_left": "20"}) == 1
    assert SENT == [("pat_7", "sms")]
    assert send_reminder({"patient_id": "pat_7", "hours_left": "30"}) == 0


def test_saved_settings_are_unchanged():
    SENT.clear()
    assert send_reminder({"patient_id": "pat_1", "hours_left": "40"}) == 1
    assert SENT == [("pat_1", "email")]
