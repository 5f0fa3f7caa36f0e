"""A local HTTP server speaking the Anthropic Messages API, for the Claude fixer's tests."""

from __future__ import annotations

from typing import Any


class FakeAnthropic:
    """A local HTTP server speaking the Messages API (``POST /v1/messages``) with scripted replies.

    Each reply is a list of content blocks (``{"type": "text", ...}`` or ``{"type": "tool_use",
    "name": ..., "input": ...}``); requests are kept in ``requests`` for assertions.
    """

    def __init__(self, replies: list[list[dict[str, Any]]]) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                authed = bool(self.headers.get("x-api-key") or self.headers.get("authorization", "").startswith("Bearer "))
                if not authed:
                    self._send(401, {"type": "error", "error": {"type": "authentication_error", "message": "no key"}})
                    return
                if self.path.rstrip("/") != "/v1/messages":
                    self._send(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
                    return
                fake.requests.append(body)
                blocks = fake.replies.pop(0) if fake.replies else [{"type": "text", "text": "done"}]
                content = []
                for i, block in enumerate(blocks):
                    if block["type"] == "tool_use":
                        content.append(
                            {
                                "type": "tool_use",
                                "id": f"toolu_{len(fake.requests)}_{i}",
                                "name": block["name"],
                                "input": block["input"],
                            }
                        )
                    else:
                        content.append({"type": "text", "text": block.get("text", "")})
                stop = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
                self._send(
                    200,
                    {
                        "id": f"msg_{len(fake.requests)}",
                        "type": "message",
                        "role": "assistant",
                        "model": body.get("model", "claude"),
                        "content": content,
                        "stop_reason": stop,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 1000, "output_tokens": 100},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL to give the anthropic SDK."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeAnthropic:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
