"""Drive the example shop: normal traffic plus the requests that expose each bad change.

    python examples/shop/traffic.py --web http://127.0.0.1:3000 --api http://127.0.0.1:8000 \
        --requests 200 --trigger 001-practice-null-check [--trigger all] [--users 12]

Requests carry ``x-user-id`` from a pool of user ids, so issues have several affected users. Prints a
JSON summary: requests, status counts and latency percentiles per route. Bounded: at most
``--requests`` normal requests plus ``--trigger-every`` interleaved trigger requests, each with a timeout.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Call:
    """One request: which service, method, path (for the report: route template), and body."""

    service: str
    method: str
    path: str
    route: str
    json: dict[str, Any] | None = None


def _order(with_delivery: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"practiceId": "prc_101", "lines": [{"sku": "KIT-1", "unitPence": 1250, "quantity": 2}]}
    if with_delivery:
        body["delivery"] = {"address": {"line1": "1 Quay St", "postcode": "LS1 4AP", "country": "GB"}}
    return body


NORMAL: tuple[Callable[[random.Random], Call], ...] = (
    lambda r: Call("web", "GET", "/api/practices", "/api/practices"),
    lambda r: Call("web", "GET", f"/api/practices/prc_{r.randint(100, 139)}", "/api/practices/:id"),
    lambda r: Call("web", "GET", f"/api/search?q={r.choice(['leeds', 'york', 'derm', 'health'])}", "/api/search"),
    lambda r: Call("web", "POST", "/api/orders", "/api/orders", _order(with_delivery=True)),
    lambda r: Call("api", "GET", f"/practices/prc_{r.choice([100, 101, 102])}/stats", STATS),
    lambda r: Call("api", "GET", "/patients/pat_1/appointments/next", NEXT_APPOINTMENT),
)

STATS = "/practices/{practice_id}/stats"
NEXT_APPOINTMENT = "/patients/{patient_id}/appointments/next"

# the requests each bad change breaks (bad-changes/<name>.patch)
TRIGGERS: dict[str, Callable[[random.Random], Call]] = {
    "001-practice-null-check": lambda r: Call(
        "web", "GET", f"/api/practices/prc_{r.choice([404, 999, 5000])}", "/api/practices/:id"
    ),
    "002-order-missing-delivery-key": lambda r: Call("web", "POST", "/api/orders", "/api/orders", _order(with_delivery=False)),
    "003-stats-division-by-zero": lambda r: Call(
        "api", "GET", f"/practices/prc_{r.randint(120, 139)}/stats", "/practices/{practice_id}/stats"
    ),
    "004-next-appointment-empty-list": lambda r: Call(
        "api", "GET", "/patients/pat_2/appointments/next", "/patients/{patient_id}/appointments/next"
    ),
    "005-search-n-plus-one-latency": lambda r: Call(
        "web", "GET", f"/api/search?q={r.choice(['leeds', 'clinic'])}", "/api/search"
    ),
}


@dataclass
class RouteReport:
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "requests": len(lat),
            "statuses": dict(self.statuses),
            "p50_ms": round(statistics.median(lat), 2) if lat else None,
            "p95_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.95))], 2) if lat else None,
        }


def drive(
    *,
    web: str,
    api: str,
    requests: int,
    triggers: Sequence[str] = (),
    trigger_every: int = 5,
    users: int = 12,
    seed: int = 7,
    timeout_s: float = 10.0,
    pause_s: float = 0.0,
) -> dict[str, Any]:
    """Send ``requests`` normal requests with one trigger request every ``trigger_every``; return the summary."""
    unknown = set(triggers) - set(TRIGGERS)
    if unknown:
        raise ValueError(f"unknown trigger(s) {sorted(unknown)}; choose from {sorted(TRIGGERS)}")
    rng = random.Random(seed)
    user_ids = [f"usr_{1000 + i * 37}" for i in range(users)]
    reports: dict[str, RouteReport] = defaultdict(RouteReport)
    bases = {"web": web.rstrip("/"), "api": api.rstrip("/")}
    with httpx.Client(timeout=timeout_s) as client:
        for i in range(requests):
            calls = [rng.choice(NORMAL)(rng)]
            if triggers and i % trigger_every == 0:
                calls.append(TRIGGERS[triggers[(i // trigger_every) % len(triggers)]](rng))
            for call in calls:
                headers = {"x-user-id": rng.choice(user_ids), "x-request-id": f"traffic-{seed}-{i}-{call.route}"}
                started = time.perf_counter()
                try:
                    response = client.request(call.method, bases[call.service] + call.path, json=call.json, headers=headers)
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                report = reports[f"{call.service} {call.method} {call.route}"]
                report.statuses[status] += 1
                report.latencies_ms.append((time.perf_counter() - started) * 1000)
            if pause_s:
                time.sleep(pause_s)
    return {"routes": {route: report.summary() for route, report in sorted(reports.items())}}


def main() -> int:
    parser = argparse.ArgumentParser(description="Drive normal and bug-triggering traffic against the example shop.")
    parser.add_argument("--web", required=True, help="base URL of the web service")
    parser.add_argument("--api", required=True, help="base URL of the api service")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument(
        "--trigger", action="append", default=[], help=f"bad change to exercise, or 'all' ({', '.join(TRIGGERS)})"
    )
    parser.add_argument("--trigger-every", type=int, default=5)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between requests")
    args = parser.parse_args()
    triggers = list(TRIGGERS) if "all" in args.trigger else args.trigger
    summary = drive(
        web=args.web,
        api=args.api,
        requests=args.requests,
        triggers=triggers,
        trigger_every=args.trigger_every,
        users=args.users,
        seed=args.seed,
        pause_s=args.pause,
    )
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
