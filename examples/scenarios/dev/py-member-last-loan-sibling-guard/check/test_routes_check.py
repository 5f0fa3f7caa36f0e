from fastapi.testclient import TestClient
from members.routes import app

client = TestClient(app, raise_server_exceptions=False)


def test_a_member_without_loans_has_no_last_loan_and_says_so_as_the_module_does():
    response = client.get("/members/m_2/last-loan")
    assert response.status_code == 404
    assert response.json() == {"detail": "no loans yet"}


def test_members_with_loans_keep_their_last_one():
    assert client.get("/members/m_1/last-loan").json()["title"] == "Kindred"
