from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_receipt_lines_and_total():
    assert client.get("/receipts/pay_1001").json() == {
        "lines": ["Flat white: £3.40", "Almond croissant: £2.95", "Tip: £1.00", "Total: £7.35"]
    }


def test_unknown_payment_is_a_404():
    response = client.get("/receipts/pay_9999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Payment not found"}
