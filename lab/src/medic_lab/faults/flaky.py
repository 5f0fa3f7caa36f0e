"""A fault injector in front of a real HTTP endpoint: forwards GETs until told to answer 503 instead."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

__all__ = ["FlakyProxy", "flaky_proxy"]


class FlakyProxy:
    """Forwards ``GET <path>`` to ``upstream`` (same path); answers 503 while ``failing`` is set."""

    def __init__(self, upstream: str = "") -> None:
        self.upstream = upstream.rstrip("/")
        self.failing = threading.Event()
        self.served = 0
        self.refused = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if proxy.failing.is_set():
                    proxy.refused += 1
                    status, body, ctype = 503, b"service unavailable", "text/plain"
                else:
                    try:
                        answer = httpx.get(proxy.upstream + self.path, timeout=2.0)
                        status, body = answer.status_code, answer.content
                        ctype = answer.headers.get("content-type", "text/plain")
                    except httpx.HTTPError:
                        status, body, ctype = 502, b"upstream unreachable", "text/plain"
                    proxy.served += 1
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="flaky-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@contextlib.contextmanager
def flaky_proxy(upstream: str = "") -> Iterator[FlakyProxy]:
    """A running proxy (``upstream`` may be set later, before the first request)."""
    proxy = FlakyProxy(upstream)
    proxy.thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
