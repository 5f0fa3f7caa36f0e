from app import money
from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_total_uses_the_renamed_formatter():
    response = client.get("/receipts/pay_1001/total")
    assert response.status_code == 200
    assert response.json() == {"payment_id": "pay_1001", "total": "£7.35"}


def test_refund_total_keeps_its_sign():
    assert client.get("/receipts/pay_1003/total").json() == {"payment_id": "pay_1003", "total": "-£0.60"}


def test_unknown_payment_is_still_a_404():
    response = client.get("/receipts/pay_4040/total")
    assert response.status_code == 404
    assert response.json() == {"detail": "Payment not found"}


def test_the_rename_stays():
    assert money.as_pounds(1234) == "£12.34" and not hasattr(money, "format_pence")
