# mypy: ignore-errors
"""A tiny target app for releaser tests: /health, /metrics (Prometheus text), /work, JSON-lines log.

It reads behaviour.json from its working directory (the checkout of the deployed ref), so a
commit can make it misbehave: {"fail": true} answers 500, {"latency_ms": 80} is slow,
{"health_status": 503} fails health, {"metrics": false} hides /metrics, {"log_error": "X"}
logs a handled error of type X on every request.
"""

import json
import os
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

with open("behaviour.json") as _fh:
    BEHAVIOUR = json.load(_fh)
LOG = os.environ.get("APP_LOG")
# {"fail_in": "production"}: broken only where the deployer says it is production (config drift).
FAILING = bool(BEHAVIOUR.get("fail")) or BEHAVIOUR.get("fail_in") == os.environ.get("MEDIC_DEPLOY_STAGE")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, float("inf"))
LOCK = threading.Lock()
COUNTS: dict[str, int] = {}
HIST = [0] * len(BUCKETS)
SUM = [0.0]


def log(level, msg, **extra):
    if not LOG:
        return
    entry = {"ts": datetime.now(UTC).isoformat(), "level": level, "msg": msg, "service": "web", **extra}
    with LOCK, open(LOG, "a") as fh:
        fh.write(json.dumps(entry) + "\n")


def observe(status, seconds):
    with LOCK:
        COUNTS[str(status)] = COUNTS.get(str(status), 0) + 1
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                HIST[i] += 1
        SUM[0] += seconds


def metrics_text():
    lines = ["# HELP http_requests_total Requests.", "# TYPE http_requests_total counter"]
    with LOCK:
        for status, n in sorted(COUNTS.items()):
            lines.append(f'http_requests_total{{status="{status}",route="/work"}} {n}')
        lines += ["# HELP http_request_duration_seconds Durations.", "# TYPE http_request_duration_seconds histogram"]
        for bound, n in zip(BUCKETS, HIST, strict=True):
            le = "+Inf" if bound == float("inf") else repr(bound)
            lines.append(f'http_request_duration_seconds_bucket{{le="{le}"}} {n}')
        lines.append(f"http_request_duration_seconds_sum {SUM[0]}")
        lines.append(f"http_request_duration_seconds_count {HIST[-1]}")
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            status = int(BEHAVIOUR.get("health_status", 200))
            return self.reply(status, "ok" if status == 200 else "unhealthy")
        if self.path == "/metrics":
            if not BEHAVIOUR.get("metrics", True):
                return self.reply(404, "no metrics")
            return self.reply(200, metrics_text(), "text/plain; version=0.0.4")
        if self.path == "/version":
            return self.reply(200, json.dumps(BEHAVIOUR), "application/json")
        if self.path.startswith("/work"):
            start = time.monotonic()
            time.sleep(float(BEHAVIOUR.get("latency_ms", 0)) / 1000)
            status = 200
            if FAILING:
                status = 500
                log(
                    "error",
                    "request failed",
                    route="/work",
                    status=500,
                    error={"type": BEHAVIOUR.get("error_type", "ServerError"), "message": "boom on request 42", "stack": ""},
                )
            elif BEHAVIOUR.get("log_error"):
                log(
                    "error",
                    "handled failure",
                    route="/work",
                    status=200,
                    error={"type": BEHAVIOUR["log_error"], "message": "upstream timed out after 3000 ms", "stack": ""},
                )
            else:
                log("info", "ok", route="/work", status=200)
            observe(status, time.monotonic() - start)
            return self.reply(status, "done" if status == 200 else "error")
        return self.reply(404, "not found")


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()
