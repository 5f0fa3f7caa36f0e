"""Local HTTP servers speaking the documented APIs the releaser calls: Vercel REST and Slack Web API."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Run ``app`` on an ephemeral port; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


@dataclass
class FakeVercel:
    """The parts of the Vercel REST API the deployer uses, with builds that take a few polls."""

    token: str = "vercel-test-token"
    project: str = "prj_shop"
    polls_to_ready: int = 2
    failing_shas: set[str] = field(default_factory=set)
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    production: str | None = None
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.middleware("http")
        async def auth(request: Request, call_next: Any) -> Any:
            self.calls.append((request.method, request.url.path, dict(request.query_params)))
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return _error(403, "forbidden", "Not authorized")
            return await call_next(request)

        @api.post("/v13/deployments")
        async def create(request: Request) -> Any:
            body = await request.json()
            git = body.get("gitSource") or {}
            if not body.get("name") or not git.get("ref") or git.get("type") not in ("github", "gitlab", "bitbucket"):
                return _error(400, "bad_request", "name and gitSource (type, ref) are required")
            uid = f"dpl_{next(self._ids)}"
            dep = {
                "id": uid, "uid": uid, "name": body["name"], "url": f"{body['name']}-{uid}.vercel.app",
                "readyState": "QUEUED", "target": body.get("target"),
                # Vercel adds the commit to a git deployment's meta (githubCommitRef/Sha) beside the caller's keys.
                "meta": {**(body.get("meta") or {}), "githubCommitRef": git["ref"], "githubCommitSha": git.get("sha", "")},
                "gitSource": git, "projectId": self.project, "createdAt": len(self.deployments), "_polls": 0,
            }  # fmt: skip
            self.deployments[uid] = dep
            return self._public(dep)

        @api.get("/v13/deployments/{uid}")
        async def get(uid: str) -> Any:
            dep = self.deployments.get(uid)
            if dep is None:
                return _error(404, "not_found", "Deployment not found")
            dep["_polls"] += 1
            if dep["readyState"] not in ("READY", "ERROR"):
                if dep["gitSource"].get("sha") in self.failing_shas:
                    dep["readyState"] = "ERROR"
                elif dep["_polls"] >= self.polls_to_ready:
                    dep["readyState"] = "READY"
                else:
                    dep["readyState"] = "BUILDING"
            return self._public(dep)

        @api.get("/v6/deployments")
        async def list_(projectId: str, limit: int = 20) -> Any:
            items = [d for d in self.deployments.values() if d["projectId"] == projectId]
            items = sorted(items, key=lambda d: -d["createdAt"])[:limit]
            return {
                "deployments": [
                    {"uid": d["id"], "url": d["url"], "state": d["readyState"], "readyState": d["readyState"],
                     "target": d["target"], "meta": d["meta"], "created": d["createdAt"]}
                    for d in items
                ],
                "pagination": {"count": len(items), "next": None, "prev": None},
            }  # fmt: skip

        @api.get("/v9/projects/{project}")
        async def project(project: str) -> Any:
            if project != self.project:
                return _error(404, "not_found", "Project not found")
            targets = {}
            if self.production:
                dep = self.deployments[self.production]
                targets["production"] = {"id": dep["id"], "url": dep["url"], "readyState": dep["readyState"]}
            return {"id": self.project, "name": "shop", "targets": targets}

        @api.post("/v10/projects/{project}/promote/{uid}", status_code=201)
        async def promote(project: str, uid: str) -> Any:
            dep = self.deployments.get(uid)
            if project != self.project or dep is None:
                return _error(404, "not_found", "Not found")
            if dep["readyState"] != "READY":
                return _error(400, "not_ready", "Deployment is not ready")
            self.production = uid
            return {}

        @api.post("/v1/projects/{project}/rollback/{uid}", status_code=201)
        async def rollback(project: str, uid: str) -> Any:
            dep = self.deployments.get(uid)
            if project != self.project or dep is None:
                return _error(404, "not_found", "Not found")
            self.production = uid
            return {}

        @api.post("/v2/deployments/{uid}/aliases")
        async def alias(uid: str, request: Request) -> Any:
            body = await request.json()
            if uid not in self.deployments or not body.get("alias"):
                return _error(400, "bad_request", "alias required")
            self.aliases[body["alias"]] = uid
            return {"uid": f"als_{uid}", "alias": body["alias"], "created": "2026-11-27T10:00:00Z"}

        @api.get("/v4/aliases/{alias}")
        async def get_alias(alias: str) -> Any:
            if alias not in self.aliases:
                return _error(404, "not_found", "Alias not found")
            return {"alias": alias, "deploymentId": self.aliases[alias], "uid": f"als_{self.aliases[alias]}"}

        return api

    @staticmethod
    def _public(dep: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in dep.items() if not k.startswith("_")}


@dataclass
class FakeSlack:
    """chat.postMessage of the Slack Web API, recording what was posted."""

    token: str = "xoxb-test"
    messages: list[dict[str, Any]] = field(default_factory=list)
    known_channels: set[str] = field(default_factory=lambda: {"#releases"})

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/api/chat.postMessage")
        async def post_message(request: Request) -> Any:
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return {"ok": False, "error": "invalid_auth"}
            if request.headers.get("content-type", "").startswith("application/json"):
                body = await request.json()
            else:
                body = dict(await request.form())
            if body.get("channel") not in self.known_channels:
                return {"ok": False, "error": "channel_not_found"}
            self.messages.append(body)
            return {
                "ok": True,
                "channel": "C123",
                "ts": f"1700000000.{len(self.messages):06d}",
                "message": {"text": body.get("text")},
            }

        return api
