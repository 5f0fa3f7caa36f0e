"""``medic bench detection --json``: false positives, faults detected and time to detect on the running demo shop.

The demo's shop runs for real (see :mod:`.detection_shop`): its users send a fixed number of
requests of its normal mix, and on a schedule three faults are injected into production:

- **bad deploy**: the demo's bad change is deployed (missing practices crash with a TypeError and
  answer 500 instead of 404); after a while the healthy release is deployed back;
- **latency regression**: the healthy release is deployed against a slow database
  (``SHOP_DB_LATENCY_MS``), then back to normal;
- **traffic spike**: the users send ``spike_factor`` times as many requests for a while.

The ``medic-watcher`` process watches the shop through its target file (the logs it writes, its
health checks) and publishes IssueDetected events; nothing is read from the bench's own knowledge.

Time is compressed: one anomaly bucket (``bucket_s`` seconds, MEDIC_ANOMALY_BUCKET_S) stands for
the production minute, and the sources are polled every ``poll_s`` seconds (the production five
minutes is ``5 * bucket_s``). Scored, for every issue the watcher raised (reason new or regressed):

- an issue raised while no fault is in progress (from its injection until its rollback has been
  serving for ``grace`` = two polls and three buckets) is raised on normal traffic: a false positive.
  ``false_positive_rate`` = those issues ÷ all issues.
- a fault is detected by the first issue naming it raised while it runs or in its grace: the bad
  deploy by an error issue (a log error or an error-rate anomaly), the latency regression by a p95
  latency issue, the spike by a traffic-spike issue. Time to detect counts from the moment the
  fault is live (the bad release answers; the spike's first request) to the watcher's publication.
- other issues raised during a fault (a deploy's restart gap seen as a traffic drop or a failing
  health check) are listed as ``during_faults``, neither detections nor false positives.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medic_contracts import DetectionReason, IssueDetected, IssueType
from medic_runtime.embedded import given_or_embedded

from .detection_shop import IssueLog, Pace, Shop, Users, WatcherProcess, arrivals

__all__ = ["FAULT_KINDS", "DetectionOptions", "Fault", "run", "score"]

FAULT_KINDS = ("bad_deploy", "latency_regression", "traffic_spike")
#: What a deploy of the shop takes here, at most (stop, start, answer), for laying out the schedule.
DEPLOY_S = 8.0


@dataclass(frozen=True, slots=True)
class DetectionOptions:
    """What to run: how many requests at what rate, how time is compressed, how long faults last."""

    requests: int = 12_000
    rate: float = 25.0  # requests per second on normal traffic
    bucket_s: int = 2  # one compressed minute
    poll_s: float = 10.0  # the watcher's polling interval: five compressed minutes
    warmup_buckets: int = 30
    fault_s: float = 20.0
    spike_factor: float = 5.0
    slow_db_ms: int = 100
    seed: int = 7
    kafka: str | None = None
    keep_dir: Path | None = None

    @classmethod
    def fast(cls, **overrides: Any) -> DetectionOptions:
        """A short run for the test: one-second buckets (so more requests a second), a five-second poll."""
        values: dict[str, Any] = {
            "requests": 7000,
            "rate": 40.0,
            "bucket_s": 1,
            "poll_s": 5.0,
            "warmup_buckets": 22,
            "fault_s": 6.0,
        }
        return cls(**{**values, **overrides})


@dataclass(slots=True)
class Fault:
    """One injected fault: when it was injected, live, over, and settled (wall-clock seconds)."""

    kind: str
    planned_at: float  # seconds from the start of traffic
    injected: float = 0.0
    live: float = 0.0
    over: float = 0.0
    settled: float = 0.0


def _plan(o: DetectionOptions, rng: random.Random) -> tuple[list[Fault], tuple[float, float, float]]:
    """When each fault starts (seconds from the start of traffic), and the spike window; spread over the run."""
    extra = (o.spike_factor - 1) * o.rate * o.fault_s
    total = max(1.0, (o.requests - extra) / o.rate)
    warmup = o.warmup_buckets * o.bucket_s
    slot = (total - warmup) / len(FAULT_KINDS)
    needed = o.poll_s + 2 * DEPLOY_S + o.fault_s + _grace(o) + 3 * o.bucket_s
    if slot < needed:
        raise ValueError(
            f"{o.requests} requests at {o.rate:g}/s leave {slot:.0f} s per fault; each needs {needed:.0f} s "
            f"(about {round(warmup * o.rate + len(FAULT_KINDS) * needed * o.rate + extra)} requests in all)"
        )
    faults = []
    for i, kind in enumerate(FAULT_KINDS):
        # a random phase against the polls, so time to detect is not flattered by the schedule
        faults.append(Fault(kind, warmup + i * slot + rng.uniform(0, o.poll_s)))
    spike = faults[-1].planned_at
    return faults, (spike, spike + o.fault_s, o.spike_factor)


def _grace(o: DetectionOptions) -> float:
    return 2 * o.poll_s + 3 * o.bucket_s


async def _inject(shop: Shop, faults: list[Fault], o: DetectionOptions, *, pace: Pace) -> None:
    for n, fault in enumerate(faults):
        await asyncio.sleep(pace.due(fault.planned_at))
        fault.injected = time.time()
        if fault.kind == "traffic_spike":
            fault.live = fault.injected
            await asyncio.sleep(o.fault_s)
            fault.over = fault.settled = time.time()
        else:
            if fault.kind == "bad_deploy":
                await shop.deploy(shop.bad, key=f"bench-{n}-bad")
            else:
                await shop.deploy(shop.healthy, key=f"bench-{n}-slow", slow_db=True)
            fault.live = time.time()
            await asyncio.sleep(o.fault_s)
            fault.over = time.time()
            await shop.deploy(shop.healthy, key=f"bench-{n}-back")
            fault.settled = time.time()
        fault.settled += _grace(o)


def _names(fault: str, issue: IssueDetected) -> bool:
    metric = issue.tags.get("medic.metric")
    if fault == "bad_deploy":
        return metric == "error_rate" or (not issue.tags.get("medic.anomaly") and issue.issue_type is not IssueType.AVAILABILITY)
    if fault == "latency_regression":
        return metric == "p95_latency"
    return metric == "traffic_spike"


def score(issues: list[IssueDetected], faults: list[Fault]) -> dict[str, Any]:
    """Raised issues against the fault schedule: false-positive rate, faults detected, median time to detect."""
    raised = [i for i in issues if i.reason in (DetectionReason.NEW, DetectionReason.REGRESSED)]
    normal: list[IssueDetected] = []
    during: list[tuple[str, IssueDetected]] = []
    detected: dict[str, float] = {}
    for issue in sorted(raised, key=lambda i: i.occurred_at):
        at = issue.occurred_at.timestamp()
        active = [f for f in faults if f.injected <= at <= f.settled]
        if not active:
            normal.append(issue)
            continue
        named = [f for f in active if _names(f.kind, issue) and at >= f.live]
        for fault in named:
            detected.setdefault(fault.kind, at - fault.live)
        if not named:
            during.append((active[0].kind, issue))
    delays = list(detected.values())
    return {
        "issues": len(raised),
        "issues_on_normal_traffic": len(normal),
        "false_positive_rate": round(len(normal) / len(raised), 4) if raised else 0.0,
        "false_positives": [f"{i.severity.value} {i.title}" for i in normal][:20],
        "faults": len(faults),
        "faults_detected": len(detected),
        "seconds_to_detect": {k: round(v, 2) for k, v in detected.items()},
        "median_seconds_to_detect": round(statistics.median(delays), 2) if delays else None,
        "during_faults": [f"{kind}: {i.severity.value} {i.title}" for kind, i in during][:20],
        "severity_updates": sum(i.reason is DetectionReason.SEVERITY_RAISED for i in issues),
    }


async def _run(o: DetectionOptions, work: Path) -> dict[str, Any]:
    rng = random.Random(o.seed)  # noqa: S311 - a reproducible benchmark, not a secret
    faults, spike = _plan(o, rng)
    plan = arrivals(requests=o.requests, rate=o.rate, spike=spike, rng=rng)
    shop = Shop(work)
    await asyncio.to_thread(shop.materialise, slow_db_ms=o.slow_db_ms)
    async with given_or_embedded(o.kafka) as bootstrap:
        watcher: WatcherProcess | None = None
        reader: asyncio.Task[None] | None = None
        try:
            await shop.deploy(shop.healthy, key="bench-initial")
            (work / "watcher-data").mkdir(exist_ok=True)
            watcher = WatcherProcess(
                target=shop.watcher_target(poll_s=o.poll_s), bootstrap=bootstrap, work=work, bucket_s=o.bucket_s
            )
            await watcher.start(bootstrap)
            log = IssueLog.for_watcher(watcher, bootstrap)
            reader = asyncio.create_task(log.run())
            users = Users(shop.traffic, shop.web, shop.api, random.Random(o.seed + 1))  # noqa: S311 - as above
            pace, wall0 = Pace(), time.time()
            await asyncio.gather(users.run(plan, pace=pace), _inject(shop, faults, o, pace=pace))
            await asyncio.sleep(_grace(o))  # the last fault's grace; then every publication is in
            elapsed = time.monotonic() - pace.started
        finally:
            if reader is not None:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
            if watcher is not None:
                await asyncio.to_thread(watcher.stop)
            await shop.stop()
    issues = [i for _, i in log.issues]
    result = score(issues, faults)
    return {
        **result,
        "raised": [
            {
                "at_s": round(i.occurred_at.timestamp() - wall0, 1),
                "first_seen_s": round(i.first_seen.timestamp() - wall0, 1),
                "reason": i.reason.value,
                "issue": f"{i.severity.value} {i.issue_type.value} {i.title}"[:160],
            }
            for i in issues
        ],
        "requests": users.sent,
        "statuses": dict(sorted(users.statuses.items())),
        "seconds": round(elapsed, 1),
        "plan_slipped_s": round(pace.slipped, 1),
        "poll_s": o.poll_s,
        "bucket_s": o.bucket_s,
        "minutes_per_poll": round(o.poll_s / o.bucket_s, 2),  # a bucket stands for a production minute
        "median_polls_to_detect": round(result["median_seconds_to_detect"] / o.poll_s, 2)
        if result["median_seconds_to_detect"] is not None
        else None,
        "schedule": [
            {"kind": f.kind, **{k: round(v - wall0, 1) for k, v in asdict(f).items() if k not in ("kind", "planned_at")}}
            for f in faults
        ],
        "options": {k: v for k, v in asdict(o).items() if k not in ("kafka", "keep_dir")},
    }


def run(options: DetectionOptions) -> dict[str, Any]:
    """Run the bench once; the JSON-ready result."""
    if options.keep_dir is not None:
        if options.keep_dir.exists():
            shutil.rmtree(options.keep_dir)
        options.keep_dir.mkdir(parents=True)
        return asyncio.run(_run(options, options.keep_dir.resolve()))
    with tempfile.TemporaryDirectory(prefix="medic-bench-detection-") as tmp:
        return asyncio.run(_run(options, Path(tmp)))
