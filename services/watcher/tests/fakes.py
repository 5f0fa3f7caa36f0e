"""Real HTTP servers on ephemeral ports speaking the documented APIs of Sentry, Vercel, Supabase, Prometheus."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free port in a thread; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


def sentry_app(
    *, issues: list[dict[str, Any]], events: dict[str, list[dict[str, Any]]], token: str, page_size: int = 2
) -> FastAPI:
    """Sentry's issues and issue-events endpoints, paginated with ``Link`` cursors, bearer-authenticated."""
    app = FastAPI()
    app.state.calls = []

    def page(items: list[dict[str, Any]], request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"detail": "Invalid token"}, status_code=401)
        start = int(request.query_params.get("cursor", "0:0:0").split(":")[1])
        chunk = items[start : start + page_size]
        more = start + page_size < len(items)
        url = str(request.url).split("?")[0]
        link = (
            f'<{url}?cursor=0:{max(0, start - page_size)}:1>; rel="previous"; results="{"true" if start else "false"}"; '
            f'cursor="0:{max(0, start - page_size)}:1", '
            f'<{url}?cursor=0:{start + page_size}:0>; rel="next"; results="{"true" if more else "false"}"; '
            f'cursor="0:{start + page_size}:0"'
        )
        return JSONResponse(chunk, headers={"Link": link})

    @app.get("/api/0/projects/{org}/{project}/issues/")
    async def list_issues(org: str, project: str, request: Request) -> Response:
        app.state.calls.append(("issues", dict(request.query_params)))
        return page(issues, request)

    @app.get("/api/0/organizations/{org}/issues/{issue_id}/events/")
    async def list_events(org: str, issue_id: str, request: Request) -> Response:
        app.state.calls.append(("events", issue_id))
        newest_first = sorted(events.get(issue_id, []), key=lambda e: e["dateCreated"], reverse=True)
        return page(newest_first, request)

    return app


def vercel_app(*, rows: list[dict[str, Any]], token: str, deployment: str = "dpl_1") -> FastAPI:
    """Vercel's deployments list and runtime-logs stream (application/stream+json)."""
    app = FastAPI()

    @app.get("/v6/deployments")
    async def deployments(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": {"code": "forbidden"}}, status_code=403)
        return JSONResponse({"deployments": [{"uid": deployment, "target": "production"}]})

    @app.get("/v1/projects/{project}/deployments/{dep}/runtime-logs")
    async def runtime_logs(project: str, dep: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": {"code": "forbidden"}}, status_code=403)
        import json

        body = "\n".join(json.dumps(r) for r in rows if dep == deployment)
        return PlainTextResponse(body, media_type="application/stream+json")

    return app


def supabase_app(
    *, tables: dict[str, list[dict[str, Any]]], token: str, statements: list[list[dict[str, Any]]] | None = None
) -> FastAPI:
    """Supabase Management API logs endpoint: filters rows by table (from the SQL) and the ISO window.

    ``statements``: successive answers of ``POST /v1/projects/{ref}/database/query`` (pg_stat_statements
    snapshots, one per call; the endpoint answers 201 with a JSON array of rows).
    """
    from datetime import datetime

    app = FastAPI()
    app.state.queries = []
    app.state.database_queries = []

    @app.post("/v1/projects/{ref}/database/query")
    async def database_query(ref: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return JSONResponse({"message": "query is required"}, status_code=400)
        app.state.database_queries.append(body)
        if not statements:
            return JSONResponse({"message": 'relation "pg_stat_statements" does not exist'}, status_code=400)
        return JSONResponse(statements.pop(0), status_code=201)

    @app.get("/v1/projects/{ref}/analytics/endpoints/logs.all")
    async def logs(ref: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        sql = request.query_params["sql"]
        start = datetime.fromisoformat(request.query_params["iso_timestamp_start"]).timestamp() * 1e6
        end = datetime.fromisoformat(request.query_params["iso_timestamp_end"]).timestamp() * 1e6
        app.state.queries.append(sql)
        table = sql.split(" from ")[1].split()[0]
        result = [r for r in tables.get(table, []) if start <= r["timestamp"] <= end]
        return JSONResponse({"result": result, "error": None})

    return app


def prometheus_app(*, series: dict[str, dict[str, float]]) -> FastAPI:
    """Prometheus /api/v1/query answering instant vectors; ``series`` maps a query substring to route values."""
    app = FastAPI()

    @app.get("/api/v1/query")
    async def query(request: Request) -> Response:
        q = request.query_params["query"]
        ts = float(request.query_params.get("time", "0"))
        for marker, values in series.items():
            if marker in q:
                result = [{"metric": {"route": r}, "value": [ts, str(v)]} for r, v in values.items()]
                return JSONResponse({"status": "success", "data": {"resultType": "vector", "result": result}})
        return JSONResponse({"status": "error", "errorType": "bad_data", "error": "unknown query"}, status_code=400)

    return app
