"""Local servers speaking the documented APIs Medic notifies through, for tests of the real clients.

- :class:`FakeSlack`: ``POST /api/chat.postMessage`` of the Slack Web API (bearer token, JSON or form).
- :class:`FakeSendGrid`: ``POST /v3/mail/send`` of SendGrid's v3 API (bearer key, JSON body, 202).
- :func:`smtp_inbox`: a real SMTP server (aiosmtpd) collecting what it receives.

They are HTTP/SMTP servers on ephemeral ports, not Python-level mocks: the real client code runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

__all__ = ["FakeSendGrid", "FakeSlack", "SmtpInbox", "serve", "smtp_inbox"]


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Run ``app`` on an ephemeral port in this loop; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class FakeSlack:
    """chat.postMessage of the Slack Web API, recording what was posted."""

    token: str = "xoxb-test"  # noqa: S105 - a test server's token
    known_channels: set[str] = field(default_factory=lambda: {"#medic"})
    messages: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        """The ASGI app (mount it with :func:`serve`; the client's base URL is ``<url>/api/``)."""
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
            return {"ok": True, "channel": "C123", "ts": f"1700000000.{len(self.messages):06d}"}

        return api


@dataclass
class FakeSendGrid:
    """SendGrid's v3 mail-send endpoint: validates the documented body, answers 202 with no content."""

    api_key: str = "SG.test-key"
    mails: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        """The ASGI app (the client's base URL is the server's root)."""
        api = FastAPI()

        def error(status: int, message: str, where: str | None = None) -> JSONResponse:
            return JSONResponse({"errors": [{"message": message, "field": where, "help": None}]}, status_code=status)

        @api.post("/v3/mail/send")
        async def send(request: Request) -> Any:
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return error(401, "The provided authorization grant is invalid, expired, or revoked")
            try:
                body = await request.json()
            except ValueError:
                return error(400, "Bad Request")
            if not isinstance(body, dict):
                return error(400, "Bad Request")
            personalizations = body.get("personalizations")
            if not personalizations or not all(p.get("to") for p in personalizations):
                return error(400, "The personalizations field is required and must have at least one personalization.",
                             "personalizations")  # fmt: skip
            if not (body.get("from") or {}).get("email"):
                return error(400, "The from object must be provided for every email send.", "from")
            if not body.get("subject"):
                return error(400, "The subject is required.", "subject")
            content = body.get("content") or []
            if not content or content[0].get("type") != "text/plain":
                return error(400, "The text/plain content type must be first.", "content")
            self.mails.append(body)
            return Response(status_code=202)

        return api


@dataclass
class SmtpInbox:
    """What a local SMTP server received."""

    host: str = "127.0.0.1"
    port: int = 0
    raw: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        self.raw.append(envelope.content)
        return "250 OK"

    @property
    def messages(self) -> list[Message]:
        """The received messages, parsed (headers decoded)."""
        return [message_from_bytes(raw, policy=policy.default) for raw in self.raw]


@contextlib.contextmanager
def smtp_inbox() -> Iterator[SmtpInbox]:
    """A real SMTP server (aiosmtpd, its own thread) on a free port; yields its inbox."""
    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = SmtpInbox(port=port)
    controller = Controller(inbox, hostname=inbox.host, port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
