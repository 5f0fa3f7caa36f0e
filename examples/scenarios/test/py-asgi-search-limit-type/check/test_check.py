from library.app import app
from starlette.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_limit_from_the_query_string_is_a_number():
    response = client.get("/search", params={"q": "and", "limit": "1"})
    assert response.status_code == 200
    assert response.json() == {"results": ["Crime and Punishment"]}


def test_default_limit_is_unchanged():
    assert client.get("/search", params={"q": "and"}).json() == {"results": ["Crime and Punishment", "Pride and Prejudice"]}
