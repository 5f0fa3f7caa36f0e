"""The fake's HTTP side: GitHub's error body and timestamps, and the request handler that serves JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = ["DOCS", "Handle", "HttpError", "handler_class", "now"]

DOCS = "https://docs.github.com/rest"
#: (method, raw path, headers, raw body) -> (status, JSON payload or None for no body).
Handle = Callable[[str, str, Any, bytes], tuple[int, Any]]


def now() -> str:
    """The current time as GitHub writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HttpError(Exception):
    """An error answer, with GitHub's ``{"message": ..., "documentation_url": ...}`` body."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": DOCS}
        if errors:
            self.body["errors"] = errors


def handler_class(handle: Handle) -> type[BaseHTTPRequestHandler]:
    """A request handler that hands every request to ``handle`` and writes its answer as JSON."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, payload = handle(self.command, self.path, self.headers, raw)
            data = b"" if payload is None else json.dumps(payload).encode("utf-8")
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
