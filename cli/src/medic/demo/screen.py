"""The live view: one timestamped line per step of the loop, and the summary at the end."""

from __future__ import annotations

import time

from .scenario import DemoResult

__all__ = ["Screen", "print_summary"]


class Screen:
    """Timestamped lines, one per step of the loop."""

    def __init__(self, *, color: bool) -> None:
        self.t0 = time.monotonic()
        self.color = color

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def line(self, mark: str, what: str, detail: str = "", who: str = "") -> None:
        """Print one step: elapsed time, a mark, what happened, and which agent did it."""
        elapsed = time.monotonic() - self.t0
        marks = {"ok": ("✓", "32"), "step": ("▸", "36"), "wait": ("…", "33"), "fail": ("✗", "31"), "info": (" ", "0")}
        symbol, code = marks[mark]
        who_text = self._paint(f"  [{who}]", "2") if who else ""
        print(f"{elapsed:7.1f}s  {self._paint(symbol, code)} {self._paint(f'{what:<11}', '1')} {detail}{who_text}", flush=True)


def print_summary(result: DemoResult) -> None:
    """The run's outcome, timeline and diff, after the live lines."""
    print()
    status = "COMPLETED" if result.completed else f"DID NOT COMPLETE — {result.reason}"
    print(f"  Medic demo ({result.scenario}): {status}")
    if result.issue_id:
        print(f"  issue       {result.issue_id}: {result.severity} “{result.title}”")
    if result.root_cause:
        print(f"  root cause  {result.root_cause[:150]}")
    if result.commit:
        print(f"  fix         {result.commit[:12]} on {result.branch} ({result.strategy})")
        print(f"  tests       {result.tests[:120]}")
    if result.regression_test:
        print(f"  reg. test   {result.regression_test}")
    if result.approvals:
        print(f"  approvals   {', '.join(result.approvals)} (given with `medic approve`)")
    print("  timeline (seconds after the bad change shipped):")
    for stage, seconds in sorted(result.stages.items(), key=lambda kv: kv[1]):
        print(f"    {seconds:7.1f}  {stage}")
    if result.diff:
        print("  diff:")
        for line in result.diff.splitlines()[:60]:
            print(f"    {line}")
    print(f"  dashboard   {result.dashboard_url}")
    print()
