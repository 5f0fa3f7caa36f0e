from worker.settle import settle


def test_settle():
    assert settle({"payment_id": "pay_1"}) == "captured"
