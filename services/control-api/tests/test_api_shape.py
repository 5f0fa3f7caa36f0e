"""What a new user's client meets at the API's edges: one error shape naming the field, 400 for malformed
JSON with its line and column, 415 for a body that is not JSON, unknown fields refused, one page shape for
every list, a bearer scheme in OpenAPI, and offline API docs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from medic_contracts import MedicConfig

from .conftest import StartControl, approval_request, seed

pytestmark = pytest.mark.kafka


async def test_an_unknown_top_level_config_field_is_refused_naming_it_and_makes_no_new_version(
    store_url: str, start_control: StartControl
) -> None:
    control = await start_control(store_url)
    async with control.client("admin") as admin:
        before = (await admin.get("/api/v1/config")).json()["version"]
        body = {"config": MedicConfig().model_dump(mode="json"), "reason": "typo", "levle": 3}
        refused = await admin.put("/api/v1/config", json=body)
        nested = await admin.put(
            "/api/v1/config", json={"config": {**MedicConfig().model_dump(mode="json"), "autonomy_levle": 3}}
        )
        after = (await admin.get("/api/v1/config")).json()["version"]
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_request" and error["field"] == "levle" and "levle" in error["message"]
    assert nested.status_code == 422 and nested.json()["error"]["field"] == "config.autonomy_levle"
    assert after == before


@pytest.mark.parametrize(
    ("raw", "line", "column"),
    [
        (b'{"reason": "x",}', 1, 16),
        (b'{\n  "reason": "incident"\n  "more": 1\n}', 3, 3),
        (b"{", 1, 2),
    ],
)
async def test_malformed_json_is_a_400_with_its_line_and_column(
    store_url: str, start_control: StartControl, raw: bytes, line: int, column: int
) -> None:
    control = await start_control(store_url)
    async with control.client("operator") as op:
        response = await op.post("/api/v1/control/pause", content=raw, headers={"Content-Type": "application/json"})
        state = (await op.get("/api/v1/control/state")).json()
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "malformed_json" and f"line {line}, column {column}" in error["message"]
    assert error["field"] is None
    assert state["paused"] is False  # nothing happened


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
)
async def test_a_body_that_is_not_json_is_a_415(store_url: str, start_control: StartControl, content_type: str) -> None:
    control = await start_control(store_url)
    headers = {"Content-Type": content_type} if content_type else {}
    async with control.client("operator") as op:
        response = await op.post("/api/v1/control/pause", content=b'{"reason": "x"}', headers=headers)
        json_suffix = await op.post(
            "/api/v1/control/resume", content=b'{"reason": "ok"}', headers={"Content-Type": "application/merge-patch+json"}
        )
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert json_suffix.status_code == 200, json_suffix.text


async def test_errors_share_one_shape_with_code_message_and_field(store_url: str, start_control: StartControl) -> None:
    control = await start_control(store_url)
    async with control.client() as anonymous:
        unauthenticated = await anonymous.get("/api/v1/issues")
    async with control.client("viewer") as viewer:
        forbidden = await viewer.post("/api/v1/control/pause", json={})
        missing = await viewer.get("/api/v1/issues/iss_nope")
        bad_query = await viewer.get("/api/v1/approvals", params={"limit": 0})
    for response in (unauthenticated, forbidden, missing, bad_query):
        error = response.json()["error"]
        assert set(error) >= {"code", "message", "field"}, response.text
    assert unauthenticated.status_code == 401 and "MEDIC_TOKEN" in unauthenticated.json()["error"]["message"]
    assert forbidden.status_code == 403 and forbidden.json()["error"]["field"] is None
    assert missing.status_code == 404
    assert bad_query.status_code == 422 and bad_query.json()["error"]["field"] == "limit"


async def test_approvals_and_dead_letters_come_in_pages_like_issues(store_url: str, start_control: StartControl) -> None:
    control = await start_control(store_url)
    requests = [approval_request(f"iss_page_{i}", expires_in=timedelta(hours=1)) for i in range(5)]
    await seed(control, requests)
    seen: list[str] = []
    async with control.client("viewer") as viewer:
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await viewer.get("/api/v1/approvals", params=params)).json()
            assert set(page) == {"items", "next_cursor"}
            assert len(page["items"]) <= 2
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        dead_letters = (await viewer.get("/api/v1/dlq")).json()
        bad_cursor = await viewer.get("/api/v1/approvals", params={"cursor": "not-a-cursor"})
    async with control.client("admin") as admin:
        tokens = (await admin.get("/api/v1/tokens", params={"limit": 2})).json()
        rest = (await admin.get("/api/v1/tokens", params={"limit": 10, "cursor": tokens["next_cursor"]})).json()
    assert sorted(seen) == sorted(r.approval_id for r in requests) and len(set(seen)) == 5
    assert dead_letters == {"items": [], "next_cursor": None}
    names = [t["name"] for t in tokens["items"] + rest["items"]]
    assert len(tokens["items"]) == 2 and rest["next_cursor"] is None
    assert len(names) == len(set(names)) and {"viewer-user", "admin-user"} <= set(names)
    assert bad_cursor.status_code == 422


async def test_openapi_declares_the_bearer_scheme_on_every_api_operation(store_url: str, start_control: StartControl) -> None:
    control = await start_control(store_url)
    async with control.client() as anonymous:
        schema = (await anonymous.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    operations = [op for path, ops in schema["paths"].items() if path.startswith("/api/v1") for op in ops.values()]
    assert operations and all(op.get("security") == [{"bearerAuth": []}] for op in operations)
    with_body = [op for op in operations if "requestBody" in op]
    assert with_body and all({"400", "415"} <= set(op["responses"]) for op in with_body)
    hours = schema["components"]["schemas"]["BusinessHours"]["properties"]
    assert hours["start"]["format"] == "partial-time"


@pytest.mark.parametrize(("page", "asset"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
async def test_api_docs_are_served_from_packaged_assets_without_a_cdn(
    store_url: str, start_control: StartControl, page: str, asset: str
) -> None:
    control = await start_control(store_url)
    async with control.client() as anonymous:
        html = await anonymous.get(page)
        script = await anonymous.get(f"/docs-assets/{asset}")
    assert html.status_code == 200 and f"/docs-assets/{asset}" in html.text
    assert "http://" not in html.text and "https://" not in html.text and "<script>" not in html.text
    assert "script-src 'self'" in html.headers["content-security-policy"]
    assert script.status_code == 200 and len(script.content) > 100_000


async def test_a_new_request_for_the_same_issue_and_step_supersedes_the_pending_one_and_is_audited(
    store_url: str, start_control: StartControl
) -> None:
    control = await start_control(store_url)
    first = approval_request("iss_replayed")
    other_issue = approval_request("iss_elsewhere")
    await seed(control, [first, other_issue])
    second = approval_request("iss_replayed")  # the replayed issue asks again under a new id
    await seed(control, [second])
    await seed(control, [second])  # a redelivery changes nothing
    async with control.client("operator") as op:
        old = (await op.get(f"/api/v1/approvals/{first.approval_id}")).json()
        pending = (await op.get("/api/v1/approvals", params={"status": "pending"})).json()["items"]
        approve_old = await op.post(f"/api/v1/approvals/{first.approval_id}/approve", json={"diff_hash": first.diff_hash})
        approve_new = await op.post(f"/api/v1/approvals/{second.approval_id}/approve", json={"diff_hash": second.diff_hash})
        superseded = (await op.get("/api/v1/approvals", params={"status": "superseded"})).json()["items"]
        trail = (await op.get("/api/v1/actions", params={"action": "approval.superseded"})).json()["items"]
    assert old["status"] == "superseded" and old["decision_reason"] == f"superseded by {second.approval_id}"
    assert {a["id"] for a in pending} == {second.approval_id, other_issue.approval_id}
    assert approve_old.status_code == 409 and approve_new.status_code == 200
    assert [a["id"] for a in superseded] == [first.approval_id]
    assert len(trail) == 1 and trail[0]["details"]["approval_id"] == first.approval_id
