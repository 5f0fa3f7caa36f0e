from fastapi.testclient import TestClient

from members.routes import app

client = TestClient(app)


def test_the_last_loan_of_a_member():
    assert client.get("/members/m_1/last-loan").json() == {"title": "Kindred", "due": "2025-08-09"}


def test_a_member_without_loans_has_none_to_count():
    assert client.get("/members/m_2/loan-count").status_code == 404
