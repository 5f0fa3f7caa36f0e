"""What a demo run is asked to do (``DemoOptions``), what it reports (``DemoResult``), and when it is done."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["BAD_CHANGE", "DemoOptions", "DemoResult", "Scenario", "is_complete"]

Scenario = Literal["fix", "rollback", "approval"]
BAD_CHANGE = "001-practice-null-check"


@dataclass(slots=True)
class DemoOptions:
    """How to run the demo."""

    scenario: Scenario = "fix"
    work_dir: Path = Path(".demo")
    keep_running: bool = False
    fast: bool = False  # shorter watch windows (the e2e tests)
    timeout_s: float = 480.0
    quiet_services: bool = True  # service logs go to files, the screen shows the loop
    well_known_ports: bool = True  # control-api on :8080 when free; False: any free ports (demos side by side, tests)
    color: bool = field(default_factory=sys.stdout.isatty)


@dataclass(slots=True)
class DemoResult:
    """What happened, for the summary, the JSON file and the tests."""

    scenario: Scenario
    completed: bool = False
    reason: str = ""
    issue_id: str | None = None
    stages: dict[str, float] = field(default_factory=dict)  # stage → seconds since the bad change shipped
    severity: str | None = None
    title: str | None = None
    root_cause: str | None = None
    strategy: str | None = None
    branch: str | None = None
    commit: str | None = None
    regression_test: str | None = None
    diff: str = ""
    tests: str = ""
    approvals: list[str] = field(default_factory=list)
    dashboard_url: str = ""
    admin_token: str = ""
    outcomes: list[str] = field(default_factory=list)
    errors_after_fix: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, without the admin token (it is printed once, never written to disk here)."""
        return {k: getattr(self, k) for k in self.__slots__ if k != "admin_token"}


def is_complete(result: DemoResult, scenario: Scenario) -> bool:
    """Whether the loop reached the scenario's last release outcome (rolled back, or promoted)."""
    if scenario == "rollback":
        return "staging_rolled_back" in result.outcomes
    return "production_promoted" in result.outcomes
