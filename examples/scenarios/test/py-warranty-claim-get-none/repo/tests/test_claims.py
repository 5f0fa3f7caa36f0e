from fastapi.testclient import TestClient

from warranty.main import app

client = TestClient(app)


def test_read_claim():
    assert client.get("/claims/WR-1041").json() == {
        "reference": "WR-1041",
        "product": "Kettle 200",
        "serial": "KT2-88311",
        "status": "in_repair",
        "fault": "Switch does not click off",
        "in_warranty_until": "2027-03-14",
    }


def test_move_a_claim_to_repaired():
    response = client.patch("/claims/WR-1042", json={"status": "repaired"})
    assert response.json() == {"reference": "WR-1042", "status": "repaired"}
    assert client.get("/claims/WR-1042").json()["status"] == "repaired"


def test_unknown_status_is_rejected():
    assert client.patch("/claims/WR-1041", json={"status": "lost"}).status_code == 422


def test_moving_an_unknown_claim_is_404():
    response = client.patch("/claims/WR-9999", json={"status": "repaired"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Claim not found"}
