"""Prometheus text exposition: requests by route/method/status and a latency histogram by route."""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self._sum: dict[str, float] = defaultdict(float)
        self._count: dict[str, int] = defaultdict(int)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(route, method, status)] += 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self._buckets[route][i] += 1
            self._sum[route] += seconds
            self._count[route] += 1

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP http_requests_total HTTP requests by route, method and status.",
                "# TYPE http_requests_total counter",
            ]
            lines += [
                f'http_requests_total{{route="{route}",method="{method}",status="{status}"}} {n}'
                for (route, method, status), n in sorted(self._requests.items())
            ]
            lines += [
                "# HELP http_request_duration_seconds HTTP request latency by route.",
                "# TYPE http_request_duration_seconds histogram",
            ]
            for route in sorted(self._count):
                for bound, n in zip(BUCKETS, self._buckets[route], strict=True):
                    lines.append(f'http_request_duration_seconds_bucket{{route="{route}",le="{bound}"}} {n}')
                lines.append(f'http_request_duration_seconds_bucket{{route="{route}",le="+Inf"}} {self._count[route]}')
                lines.append(f'http_request_duration_seconds_sum{{route="{route}"}} {self._sum[route]}')
                lines.append(f'http_request_duration_seconds_count{{route="{route}"}} {self._count[route]}')
        return "\n".join(lines) + "\n"
