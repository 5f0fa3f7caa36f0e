"""Slow queries from database statistics, judged against budgets and baselines (pure: no I/O).

Two kinds of statistics arrive:

- per statement (``pg_stat_statements``, also what Supabase's query performance report reads):
  cumulative ``calls`` and ``total_exec_time``. Between two polls the mean time per call is
  Δtotal / Δcalls; a mean above the absolute budget is slow, and a mean ``regression_factor`` times
  its baseline (an exponentially weighted mean of earlier intervals, kept in the watcher's store with
  the source's cursor) is a regression. A regressed interval does not move the baseline.
- per table (``pg_stat_user_tables``, when ``pg_stat_statements`` is not loaded): Δseq_tup_read /
  Δseq_scan is the rows one sequential scan reads; many such scans of a large table are the mark of a
  missing index. The query is taken from ``pg_stat_activity`` when a session's last statement
  names the table, with its literals masked to ``$n`` (no personal data, and EXPLAIN can plan it).

A finding becomes an :class:`ObservedEvent` with the ``medic.slow_query`` tag: a ``performance``
issue, one per statement or table (client fingerprint), which the investigator EXPLAINs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .normalize import Normaliser
from .observed import ObservedEvent

__all__ = [
    "ActiveQuery",
    "QueryStat",
    "SlowFinding",
    "SlowQueryBudget",
    "SlowQueryState",
    "TableScans",
    "judge_active",
    "judge_statements",
    "judge_tables",
    "mask_literals",
    "slow_query_event",
]

MAX_TRACKED = 500
BASELINE_WEIGHT = 0.2


@dataclass(frozen=True, slots=True)
class SlowQueryBudget:
    """The thresholds of one source."""

    budget_ms: float = 500.0
    regression_factor: float = 3.0
    min_delta_ms: float = 5.0
    min_calls: int = 5
    seq_scan_rows: int = 50_000
    min_table_rows: int = 10_000


@dataclass(frozen=True, slots=True)
class QueryStat:
    """One statement's cumulative statistics."""

    query_id: str
    query: str
    calls: int
    total_ms: float
    rows: int = 0


@dataclass(frozen=True, slots=True)
class TableScans:
    """One table's cumulative scan counters."""

    schema: str
    table: str
    seq_scan: int
    seq_tup_read: int
    idx_scan: int
    live_rows: int


@dataclass(frozen=True, slots=True)
class ActiveQuery:
    """A statement running now, and for how long."""

    query: str
    running_ms: float


class _Counters(BaseModel):
    model_config = ConfigDict(extra="ignore")

    calls: int = 0
    total_ms: float = 0.0
    baseline_ms: float | None = None


class _TableCounters(BaseModel):
    model_config = ConfigDict(extra="ignore")

    seq_scan: int = 0
    seq_tup_read: int = 0


class SlowQueryState(BaseModel):
    """Counters and baselines between polls (stored as part of the source's cursor)."""

    model_config = ConfigDict(extra="ignore")

    statements: dict[str, _Counters] = Field(default_factory=dict)
    tables: dict[str, _TableCounters] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SlowFinding:
    """A slow statement or a table read by large sequential scans."""

    kind: Literal["budget", "regression", "table_scans", "running"]
    key: str
    description: str
    query: str = ""
    table: str = ""
    mean_ms: float | None = None
    baseline_ms: float | None = None
    calls: int = 0
    rows_per_scan: float | None = None


def _short(query: str, limit: int = 160) -> str:
    flat = " ".join(query.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def judge_statements(state: SlowQueryState, stats: Iterable[QueryStat], budget: SlowQueryBudget) -> list[SlowFinding]:
    """Findings of this interval; ``state`` is updated to the new counters and baselines."""
    findings: list[SlowFinding] = []
    seen: dict[str, _Counters] = {}
    for stat in stats:
        previous = state.statements.get(stat.query_id)
        if previous is None or stat.calls < previous.calls:  # first sight, or the statistics were reset
            calls, total = stat.calls, stat.total_ms
            baseline = None
        else:
            calls, total = stat.calls - previous.calls, stat.total_ms - previous.total_ms
            baseline = previous.baseline_ms
        counters = _Counters(calls=stat.calls, total_ms=stat.total_ms, baseline_ms=baseline)
        if calls >= budget.min_calls:
            mean = total / calls
            finding: SlowFinding | None = None
            if mean > budget.budget_ms:
                finding = SlowFinding(
                    kind="budget",
                    key=stat.query_id,
                    description=f"slow query: mean {mean:.1f} ms per call over {calls} calls "
                    f"(budget {budget.budget_ms:.0f} ms): {_short(stat.query)}",
                    query=stat.query,
                    mean_ms=mean,
                    baseline_ms=baseline,
                    calls=calls,
                )
            elif baseline is not None and mean > baseline * budget.regression_factor and mean - baseline > budget.min_delta_ms:
                finding = SlowFinding(
                    kind="regression",
                    key=stat.query_id,
                    description=f"slow query regression: mean {mean:.1f} ms per call over {calls} calls, "
                    f"{mean / max(baseline, 0.001):.1f}x its baseline of {baseline:.1f} ms: {_short(stat.query)}",
                    query=stat.query,
                    mean_ms=mean,
                    baseline_ms=baseline,
                    calls=calls,
                )
            if finding is not None:
                findings.append(finding)
            else:  # only a normal interval teaches the baseline
                counters.baseline_ms = mean if baseline is None else (1 - BASELINE_WEIGHT) * baseline + BASELINE_WEIGHT * mean
        seen[stat.query_id] = counters
    state.statements = dict(sorted(seen.items(), key=lambda kv: -kv[1].total_ms)[:MAX_TRACKED])
    return findings


def judge_tables(
    state: SlowQueryState,
    scans: Iterable[TableScans],
    budget: SlowQueryBudget,
    *,
    recent_queries: Mapping[str, str] | None = None,
) -> list[SlowFinding]:
    """Tables read by many large sequential scans since the last poll; ``state`` takes the new counters.

    ``recent_queries`` maps ``schema.table`` to a statement seen touching it (masked), if any.
    """
    findings: list[SlowFinding] = []
    seen: dict[str, _TableCounters] = {}
    for scan in scans:
        key = f"{scan.schema}.{scan.table}"
        previous = state.tables.get(key)
        seen[key] = _TableCounters(seq_scan=scan.seq_scan, seq_tup_read=scan.seq_tup_read)
        if previous is None or scan.seq_scan < previous.seq_scan:
            continue  # the first poll only learns the counters
        scans_now = scan.seq_scan - previous.seq_scan
        read = scan.seq_tup_read - previous.seq_tup_read
        if scans_now < budget.min_calls or scan.live_rows < budget.min_table_rows:
            continue
        per_scan = read / scans_now
        if per_scan < budget.seq_scan_rows:
            continue
        query = (recent_queries or {}).get(key, "")
        findings.append(
            SlowFinding(
                kind="table_scans",
                key=key,
                description=f"slow queries: {scans_now} sequential scans of {key} read {per_scan:,.0f} rows each "
                f"({scan.live_rows:,} rows in the table, {scan.idx_scan} index scans)" + (f": {_short(query)}" if query else ""),
                query=query,
                table=key,
                calls=scans_now,
                rows_per_scan=per_scan,
            )
        )
    state.tables = dict(list(seen.items())[:MAX_TRACKED])
    return findings


def judge_active(active: Iterable[ActiveQuery], budget: SlowQueryBudget) -> list[SlowFinding]:
    """Statements running longer than the budget right now."""
    findings = []
    for item in active:
        if item.running_ms <= budget.budget_ms:
            continue
        masked = mask_literals(item.query)
        findings.append(
            SlowFinding(
                kind="running",
                key=hashlib.sha256(" ".join(masked.split()).encode()).hexdigest()[:16],
                description=f"slow query: running for {item.running_ms:,.0f} ms (budget {budget.budget_ms:.0f} ms): "
                f"{_short(masked)}",
                query=masked,
                mean_ms=item.running_ms,
                calls=1,
            )
        )
    return findings


_STRING = re.compile(r"(?:[EeBbXxNn]|[Uu]&)?'(?:[^']|'')*'")
_DOLLAR_QUOTED = re.compile(r"\$(\w*)\$.*?\$\1\$", re.DOTALL)
_NUMBER = re.compile(r"(?<![\w$.])(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?(?![\w.])")
_PARAM = re.compile(r"\$(\d+)")


def mask_literals(sql: str) -> str:
    """The statement with string and number literals replaced by ``$n`` (as pg_stat_statements shows it)."""
    existing = [int(n) for n in _PARAM.findall(sql)]
    counter = [max(existing, default=0)]

    def next_param(_: re.Match[str]) -> str:
        counter[0] += 1
        return f"${counter[0]}"

    masked = _DOLLAR_QUOTED.sub(next_param, sql)
    masked = _STRING.sub(next_param, masked)
    return _NUMBER.sub(next_param, masked)


def slow_query_event(
    finding: SlowFinding, *, source: str, service: str, environment: str, now: datetime, normaliser: Normaliser
) -> ObservedEvent:
    """A finding as an observed problem event: a ``performance`` issue per statement or table."""
    tags = {"medic.slow_query": "true", "slow_query.kind": finding.kind}
    if finding.query:
        tags["query"] = normaliser.text(finding.query, 4000)
    if finding.table:
        tags["table"] = finding.table
    if finding.mean_ms is not None:
        tags["mean_ms"] = f"{finding.mean_ms:.1f}"
    if finding.baseline_ms is not None:
        tags["baseline_ms"] = f"{finding.baseline_ms:.1f}"
    if finding.rows_per_scan is not None:
        tags["rows_per_scan"] = f"{finding.rows_per_scan:.0f}"
    tags["calls"] = str(finding.calls)
    return ObservedEvent(
        source=source,
        service=service,
        timestamp=now,
        level="error",
        message=normaliser.text(finding.description, 2000),
        environment=environment,
        client_fingerprint=("slow_query", finding.key if finding.kind != "running" else f"running:{finding.key}"),
        tags=tags,
    )
