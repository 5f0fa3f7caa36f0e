from worker.settle import settle


def test_a_slow_capture_waits_long_enough():
    assert settle({"payment_id": "pay_slow_1"}) == "captured"
