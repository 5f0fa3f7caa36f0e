"""Watch sources: Prometheus query API, the app's /metrics, health checks and the JSON-lines log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from medic_contracts import IssueBrief, IssueType, Severity
from medic_releaser.adapters.sources import StageProbe, active_checks, run_smoke
from medic_releaser.config import PrometheusQueries, SmokeCheck, StageChecks
from medic_releaser.domain.analysis import CheckName, WatchState
from medic_releaser.domain.fingerprint import fingerprint_of
from medic_releaser.domain.runs import DeploymentRef, StageState

from .fakes import serve
from .harness import free_port

ISSUE = IssueBrief(target="shop", service="web", title="KeyError: 'practice'", severity=Severity.P2,
                   issue_type=IssueType.API_ERROR, fingerprint="fp-practice")  # fmt: skip


def prometheus(answers: dict[str, Any]) -> FastAPI:
    """The Prometheus HTTP API's instant query endpoint, answering from ``answers``."""
    api = FastAPI()

    @api.get("/api/v1/query")
    async def query(query: str) -> Any:
        if query not in answers:
            return {"status": "error", "errorType": "bad_data", "error": "parse error"}
        value = answers[query]
        result = [] if value is None else [{"metric": {}, "value": [1700000000.0, str(value)]}]
        return {"status": "success", "data": {"resultType": "vector", "result": result}}

    return api


async def test_prometheus_queries_give_rates_and_an_empty_vector_is_missing_data() -> None:
    async with serve(prometheus({"errors": 0.03, "p95": 120.5, "rps": None})) as url:
        checks = StageChecks(prometheus=PrometheusQueries(url=url, error_rate="errors", latency_ms="p95", rps="rps"))
        probe = StageProbe(checks, issue=ISSUE)
        assert await probe.prometheus() == (0.03, 120.5, None)
        obs = await probe.observe(WatchState())
        assert obs.error_rate == 0.03 and obs.latency_ms == 120.5 and not obs.missing
        broken = StageProbe(StageChecks(prometheus=PrometheusQueries(url=url, error_rate="nope")), issue=ISSUE)
        assert (await broken.observe(WatchState())).missing == ["metrics"]
    down = StageProbe(StageChecks(prometheus=PrometheusQueries(url=f"http://127.0.0.1:{free_port()}", error_rate="e")),
                      issue=ISSUE)  # fmt: skip
    assert (await down.baseline(first=None)).missing == ["prometheus.error_rate"]


def app_metrics(body: dict[str, str]) -> FastAPI:
    api = FastAPI()

    @api.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> str:
        return body["text"]

    @api.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return api


METRICS = """# TYPE http_requests_total counter
http_requests_total{status="200"} %d
http_requests_total{status="503"} %d
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1"} %d
http_request_duration_seconds_bucket{le="+Inf"} %d
http_request_duration_seconds_sum 1.0
http_request_duration_seconds_count %d
"""


async def test_app_metrics_are_scraped_into_rates_and_an_absent_metric_is_missing() -> None:
    body = {"text": METRICS % (90, 10, 100, 100, 100)}
    async with serve(app_metrics(body)) as url:
        checks = StageChecks(metrics_url=f"{url}/metrics", health=(f"{url}/health", f"http://127.0.0.1:{free_port()}/h"))
        probe = StageProbe(checks, issue=ISSUE)
        state = WatchState()
        first = await probe.observe(state)
        assert first.idle and state.previous is not None and state.previous.requests == 100
        body["text"] = METRICS % (135, 65, 200, 200, 200)
        obs = await probe.observe(state)
        assert obs.error_rate == 0.55 and obs.requests == 100
        assert obs.latency_ms is not None and obs.latency_ms <= 100
        assert list(obs.health.values()) == [True, False]
        body["text"] = "# TYPE other_total counter\nother_total 3\n"
        assert (await probe.observe(state)).missing == ["metrics"]
    assert active_checks(checks) == {CheckName.ERROR_RATE, CheckName.LATENCY, CheckName.HEALTH}


def line(level: str, **extra: Any) -> str:
    return json.dumps({"ts": "2026-11-27T10:00:00Z", "level": level, "msg": "m", **extra}) + "\n"


async def test_the_log_yields_new_fingerprints_and_recurrences_of_the_fixed_error(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(line("error", error={"type": "TimeoutError", "message": "upstream took 3000 ms"}, route="/a"))
    probe = StageProbe(StageChecks(logfile=str(log)), issue=ISSUE)
    baseline = await probe.baseline(first=None)
    assert baseline.fingerprints == [fingerprint_of("TimeoutError", "upstream took 9 ms", "/a")]
    assert baseline.log_offset == log.stat().st_size
    with log.open("a") as fh:
        fh.write(line("error", error={"type": "TimeoutError", "message": "upstream took 12 ms"}, route="/a"))
        fh.write(line("info", route="/a"))
        fh.write(line("error", error={"type": "KeyError", "message": "'practice'"}))
        fh.write('{"level": "error", "msg": "half a li')  # an incomplete last line waits for the next sample
    state = WatchState(log_offset=baseline.log_offset)
    obs = await probe.observe(state)
    assert obs.recurrences == 1
    assert set(obs.fingerprints or []) - set(baseline.fingerprints) == {fingerprint_of("KeyError", "'practice'", None)}
    assert state.log_offset is not None and state.log_offset < log.stat().st_size
    log.unlink()
    assert (await probe.observe(state)).missing == ["logfile"]


async def test_errors_count_against_the_new_deployment_unless_they_carry_the_old_release(tmp_path: Path) -> None:
    old_sha, new_sha = "a1b2c3d4" * 5, "0f9e8d7c" * 5
    old = DeploymentRef(id="dep-old", sha=old_sha)
    stage = StageState(previous=old, deployment=DeploymentRef(id="dep-new", sha=new_sha), merge_sha=new_sha)
    log = tmp_path / "app.log"
    log.write_text("")
    probe = StageProbe(StageChecks(logfile=str(log)), issue=ISSUE, old_release=stage.old_release())
    baseline = await probe.baseline(first=None)

    def err(kind: str, **tag: str) -> str:
        return line("error", error={"type": kind, "message": "boom"}, route="/w", **tag)

    with log.open("a") as fh:
        fh.write(err("Untagged"))
        fh.write(err("OldByDeployment", deployment_id="dep-old"))
        fh.write(err("OldByShortSha", release=old_sha[:12]))
        fh.write(err("NewBySha", commit=new_sha))
        fh.write(err("NewById", deployment="dep-new"))
        fh.write(line("error", error={"type": "KeyError", "message": "'practice'"}, release=old_sha))  # the bug, old
    obs = await probe.observe(WatchState(log_offset=baseline.log_offset))
    seen = set(obs.fingerprints or [])
    assert fingerprint_of("Untagged", "boom", "/w") in seen
    assert {fingerprint_of("NewBySha", "boom", "/w"), fingerprint_of("NewById", "boom", "/w")} <= seen
    assert fingerprint_of("OldByDeployment", "boom", "/w") not in seen
    assert fingerprint_of("OldByShortSha", "boom", "/w") not in seen
    assert obs.recurrences == 0  # the old release still has the bug: its occurrences are not recurrences
    with log.open("a") as fh:
        fh.write(line("error", error={"type": "KeyError", "message": "'practice'"}, release=new_sha[:7]))
    assert (await probe.observe(WatchState(log_offset=baseline.log_offset))).recurrences == 1


async def test_when_old_and_new_share_a_sha_a_tagged_line_counts_against_the_new_deployment(tmp_path: Path) -> None:
    sha = "c" * 40  # a redeploy of the same commit: the tag cannot tell the two apart
    stage = StageState(previous=DeploymentRef(id="d1", sha=sha), deployment=DeploymentRef(id="d2", sha=sha))
    assert stage.old_release() == frozenset({"d1"})
    log = tmp_path / "app.log"
    log.write_text(line("error", error={"type": "Boom", "message": "x"}, release=sha))
    probe = StageProbe(StageChecks(logfile=str(log)), issue=ISSUE, old_release=stage.old_release())
    assert fingerprint_of("Boom", "x", None) in set((await probe.observe(WatchState(log_offset=0))).fingerprints or [])


async def test_smoke_checks_report_status_and_body_mismatches() -> None:
    async with serve(app_metrics({"text": ""})) as url:
        results = await run_smoke((
            SmokeCheck(url=f"{url}/health", contains="ok"),
            SmokeCheck(url=f"{url}/health", contains="nope"),
            SmokeCheck(url=f"{url}/missing"),
        ))  # fmt: skip
    assert [ok for _, ok, _ in results] == [True, False, False]
    assert "status 404" in results[2][2]
