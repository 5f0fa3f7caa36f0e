"""A local HTTP server speaking the Anthropic Messages API (``POST /v1/messages``), replaying a script.

Tests point the real ``anthropic`` SDK at it (``AsyncAnthropic(base_url=server.url)``). Each
request takes the next scripted reply: a message body (200), an API error (429, 500, 529 with the
documented ``{"type": "error", "error": {...}}`` body and optional ``retry-after``), or a delay
longer than the client's timeout. Every request body and its headers are captured, so a test can
assert what would have left the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from medic_runtime.aio import bounded

__all__ = ["CapturedRequest", "FakeMessagesApi", "Reply", "load_script", "message", "running", "text_message", "tool_use_message"]


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CapturedRequest:
    """What the client sent."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: str


def message(
    content: list[dict[str, Any]], *, stop_reason: str, model: str = "claude-sonnet-4-6", usage: dict[str, int] | None = None
) -> dict[str, Any]:
    """A Messages API response body."""
    return {
        "id": f"msg_{abs(hash(json.dumps(content, sort_keys=True))) % 10**12:012d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage
        or {"input_tokens": 1200, "output_tokens": 150, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }


def text_message(text: str, **kwargs: Any) -> Reply:
    """A final text answer."""
    return Reply(body=message([{"type": "text", "text": text}], stop_reason="end_turn", **kwargs))


def tool_use_message(calls: list[tuple[str, dict[str, Any]]], *, thought: str = "Let me look.", **kwargs: Any) -> Reply:
    """An answer that calls tools."""
    content: list[dict[str, Any]] = [{"type": "text", "text": thought}]
    for n, (name, params) in enumerate(calls):
        content.append({"type": "tool_use", "id": f"toolu_{n:02d}_{name}", "name": name, "input": params})
    return Reply(body=message(content, stop_reason="tool_use", **kwargs))


def load_script(path: Path) -> list[Reply]:
    """Replies from a JSON file: a list of {status, body, headers, delay_s} objects."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Reply(status=r.get("status", 200), body=r.get("body"), headers=r.get("headers", {}), delay_s=r.get("delay_s", 0.0))
        for r in data
    ]


class FakeMessagesApi:
    """The server's state: the script and the captured requests."""

    def __init__(self, script: list[Reply]) -> None:
        self.script = list(script)
        self.requests: list[CapturedRequest] = []
        self.url = ""
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    async def _messages(self, request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return JSONResponse(
                {"type": "error", "error": {"type": "invalid_request_error", "message": "body is not JSON"}}, status_code=400
            )
        self.requests.append(CapturedRequest(request.url.path, dict(request.headers), body, raw))
        if not self.script:
            return JSONResponse(
                {"type": "error", "error": {"type": "invalid_request_error", "message": "fake server: script exhausted"}},
                status_code=400,
            )
        reply = self.script.pop(0)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status == 200 and reply.body is not None:
            body_out = dict(reply.body)
            body_out.setdefault("model", body.get("model", "claude"))
            return JSONResponse(body_out, headers={"request-id": f"req_{len(self.requests)}", **reply.headers})
        error = reply.body or {"type": "error", "error": {"type": _error_type(reply.status), "message": f"status {reply.status}"}}
        return JSONResponse(error, status_code=reply.status, headers=reply.headers)


def _error_type(status: int) -> str:
    return {429: "rate_limit_error", 529: "overloaded_error", 401: "authentication_error"}.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )


@contextlib.asynccontextmanager
async def running(script: list[Reply]) -> AsyncIterator[FakeMessagesApi]:
    """Serve the fake API on an ephemeral 127.0.0.1 port for the duration of the block."""
    fake = FakeMessagesApi(script)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await bounded(task, timeout=5)
        sock.close()
