from fastapi.testclient import TestClient
from warranty.main import app

client = TestClient(app, raise_server_exceptions=False)


def test_reading_an_unknown_claim_is_the_routers_404():
    response = client.get("/claims/WR-0917")
    assert response.status_code == 404
    assert response.json() == {"detail": "Claim not found"}


def test_a_known_claim_reads_as_before():
    body = client.get("/claims/WR-1041").json()
    assert body["product"] == "Kettle 200" and body["in_warranty_until"] == "2027-03-14"
