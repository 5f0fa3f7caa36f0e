"""The four services as step-matrix stacks (see :mod:`.steps`): what each is fed, its steps, what counts as done once.

- watcher: error lines appended to its log file source; steps: the lines written (not yet polled), the
  issue published. Done: one new IssueDetected for the lines' error.
- investigator: an IssueDetected of a real bug, Claude being the fake Messages API (each call held 3 s);
  steps: the LLM call in flight, the diagnosis published. Done: one DiagnosisReady.
- implementer: a DiagnosisReady for the fixture repository; steps: the push in flight (held by a hook),
  the fix announced. Done: one FixCommitted for the one commit on the fix branch.
- releaser: a FixCommitted for the release target; steps: gate, merge, staging deploy, staging watch,
  production deploy. Done: the production DeploymentResult, each stage deployed once.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medic_contracts import (
    ActionRecorded,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DetectionReason,
    DiagnosisReady,
    FixCommitted,
    IssueDetected,
    MedicConfig,
    Severity,
    TopicName,
)
from medic_testing.implementer import FixtureRepo, git, produce, pulls, python_diagnosis, python_fixture_repo, set_config
from medic_testing.implementer import write_target as write_fix_target
from medic_testing.implementer.hooks import hold_first_push
from medic_testing.investigator.buggy_target import issue_detected
from medic_testing.investigator.fake_messages_api import FakeMessagesApi, running
from medic_testing.releaser import harness as h
from medic_testing.releaser.faults import deploy_initial
from medic_testing.runtime.plugin import test_env

from .llm import _claude_target, _final, _triage
from .model import FaultResult, audit_duplicates, duplicated_rows, extra, outbox_rows
from .releaser import FULL
from .steps import Collector, Fault, Maker, ServiceStack

__all__ = ["STACKS"]

CONFIG = MedicConfig(version=1)


def _audit(result: FaultResult, seen: Collector, issues: dict[str, str], *, exclude: tuple[str, ...] = ()) -> None:
    mine = [e for e in seen.events.values() if getattr(e, "issue_id", None) in issues]
    result.duplicate("audit_rows", audit_duplicates(mine, exclude=exclude))
    if doubled := duplicated_rows(mine, exclude=exclude):
        result.observed["duplicated_audit_rows"] = doubled


@dataclass
class WatcherStack(ServiceStack):
    service: str = "watcher"
    steps: tuple[str, ...] = ("lines_written", "issue_published")
    log: Path = Path()
    markers: dict[str, str] = field(default_factory=dict)

    async def up(self) -> None:
        self.log = self.root / "app.log"
        self.log.write_text("")
        toml = self.root / "medic.toml"
        toml.write_text('[target]\nname = "shop"\nrepo = "."\nlanguage = "python"\ntest_command = "true"\n\n'
                        f'[[sources]]\nkind = "logfile"\nname = "app"\npath = "{self.log}"\ninterval_s = 1\n')  # fmt: skip
        self.env = test_env(self.b.bootstrap, self.b.prefix, self.root / "data", MEDIC_TARGETS=str(toml), MEDIC_LOG_FORMAT="text")
        await self.control()
        await self.start("medic-watcher")

    async def send(self, n: int, step: str) -> str:
        marker = f"Step{n}Error"
        issue = f"lines-{n}"
        self.markers[issue] = marker
        now = datetime.now(UTC).isoformat()
        lines = [json.dumps({"ts": now, "level": "error", "msg": f"{marker}: ledger {n} out of sync", "route": f"/api/step{n}",
                             "status": 500, "error": {"type": marker, "message": f"ledger {n} out of sync"}})
                 for _ in range(5)]  # fmt: skip
        with self.log.open("a") as fh:
            fh.write("\n".join(lines) + "\n")
        return issue

    def _detected(self, issue: str) -> list[IssueDetected]:
        marker = self.markers[issue]
        return [e for e in self.seen.of(IssueDetected) if marker in e.title or marker in e.message]

    def reached(self, step: str, issue_id: str) -> bool:
        return step == "lines_written" or bool(self._detected(issue_id))

    def done(self, issue_id: str) -> bool:
        return bool(self._detected(issue_id))

    async def kill(self) -> None:
        await self.kill_and_restart("medic-watcher")

    async def control(self) -> None:
        await set_config(self.b.bootstrap, self.b.prefix, CONFIG)

    def measure(self, result: FaultResult, issues: dict[str, str]) -> None:
        per = {i: self._detected(i) for i in issues}
        new = {i: [e for e in found if e.reason is DetectionReason.NEW] for i, found in per.items()}
        result.lost_issues = sum(1 for found in per.values() if not found)
        result.duplicate("events", extra(len(found) for found in new.values() if found))
        ids = {e.issue_id for found in per.values() for e in found}
        _audit(result, self.seen, dict.fromkeys(ids, ""))
        result.unaudited_side_effects = outbox_rows(self.root / "data")
        result.observed.update({"issues_detected": {issues[i]: len(found) for i, found in per.items()},
                                "outbox_left": result.unaudited_side_effects})  # fmt: skip
        result.checks["one new IssueDetected per error"] = all(len(found) == 1 for found in new.values())


@dataclass
class InvestigatorStack(ServiceStack):
    service: str = "investigator"
    steps: tuple[str, ...] = ("llm_call_in_flight", "diagnosis_published")
    fake: FakeMessagesApi | None = None
    calls_before: int = 0
    trace: str = ""
    commit: str = ""
    _server: Any = None

    async def up(self) -> None:
        self._server = running([])
        self.fake = await self._server.__aenter__()
        toml, self.commit, self.trace = _claude_target(self.root, self.fake.url, max_retries=0, timeout_s=60)
        self.env = test_env(self.b.bootstrap, self.b.prefix, self.root / "inv", MEDIC_TARGETS=str(toml),
                            MEDIC_WORKDIR=str(self.root / "inv" / "work"), MEDIC_ANTHROPIC_API_KEY="test-key",
                            MEDIC_LOG_FORMAT="text")  # fmt: skip
        await self.control()
        await self.start("medic-investigator")

    async def down(self) -> None:
        await super().down()
        if self._server is not None:
            await self._server.__aexit__(None, None, None)

    async def send(self, n: int, step: str) -> str:
        assert self.fake is not None
        # The first triage is held 3 s (the kill lands mid-call); a redo after the fault gets fresh answers.
        self.fake.script[:] = [_triage(delay_s=3.0), _final(), _triage(), _final(), _triage(), _final()]
        self.calls_before = len(self.fake.requests)
        issue = issue_detected(n, self.trace, self.commit, prefix="iss_step")
        await produce(self.b.bootstrap, self.b.topic(TopicName.ISSUES_DETECTED), issue)
        return issue.issue_id

    def reached(self, step: str, issue_id: str) -> bool:
        assert self.fake is not None
        if step == "llm_call_in_flight":
            return len(self.fake.requests) > self.calls_before
        return self.done(issue_id)

    def done(self, issue_id: str) -> bool:
        return bool(self.seen.of(DiagnosisReady, issue_id))

    async def kill(self) -> None:
        await self.kill_and_restart("medic-investigator")

    async def control(self) -> None:
        await set_config(self.b.bootstrap, self.b.prefix, CONFIG)

    def measure(self, result: FaultResult, issues: dict[str, str]) -> None:
        per = {i: self.seen.of(DiagnosisReady, i) for i in issues}
        result.lost_issues = sum(1 for found in per.values() if not found)
        result.duplicate("events", extra(len(found) for found in per.values() if found))
        _audit(result, self.seen, issues)
        result.unaudited_side_effects = outbox_rows(self.root / "inv")
        result.observed.update({"diagnoses": {issues[i]: len(found) for i, found in per.items()},
                                "outbox_left": result.unaudited_side_effects})  # fmt: skip
        result.checks["each issue diagnosed by Claude once"] = all(
            len(found) == 1 and found[0].provider == "claude" for found in per.values()
        )


@dataclass
class ImplementerStack(ServiceStack):
    service: str = "implementer"
    steps: tuple[str, ...] = ("push_in_flight", "fix_announced")
    repo: FixtureRepo | None = None
    marker: Path = Path()
    release: Path = Path()

    async def up(self) -> None:
        self.repo = await asyncio.to_thread(python_fixture_repo, self.root / "repo")
        self.env = test_env(self.b.bootstrap, self.b.prefix, self.root / "data",
                            MEDIC_TARGET_FILE=str(write_fix_target(self.repo, self.root)),
                            MEDIC_TOOL_PATHS=json.dumps([str(Path(sys.executable).parent)]),
                            MEDIC_WORKSPACE_DIR=str(self.root / "worktrees"), MEDIC_FIX_LEASE_S="10",
                            MEDIC_OUTBOX_ACK_TIMEOUT_S="5", MEDIC_KAFKA_REQUEST_TIMEOUT_MS="5000")  # fmt: skip
        await self.control()
        await self.start("medic-implementer")

    async def send(self, n: int, step: str) -> str:
        assert self.repo is not None
        self.marker, self.release = self.root / f"pushed-{n}", self.root / f"release-{n}"
        if step == "push_in_flight":
            hold_first_push(self.repo.remote, self.marker, release=self.release)
        else:
            (self.repo.remote / "hooks" / "post-receive").unlink(missing_ok=True)
        diagnosis = python_diagnosis(self.repo, issue_id=f"iss_step_{n}")
        await produce(self.b.bootstrap, self.b.topic(TopicName.DIAGNOSES_READY), diagnosis)
        return diagnosis.issue_id

    def reached(self, step: str, issue_id: str) -> bool:
        return self.marker.exists() if step == "push_in_flight" else self.done(issue_id)

    def done(self, issue_id: str) -> bool:
        return bool(self.seen.of(FixCommitted, issue_id))

    async def after_fault(self, fault: Fault) -> None:
        self.release.touch()  # a push held across a broker restart completes once the broker is back

    async def kill(self) -> None:
        await self.kill_and_restart("medic-implementer")

    async def control(self) -> None:
        await set_config(self.b.bootstrap, self.b.prefix, CONFIG)

    def measure(self, result: FaultResult, issues: dict[str, str]) -> None:
        assert self.repo is not None
        heads: dict[str, str] = {}
        commits: dict[str, int] = {}
        for issue in issues:
            try:
                commits[issue] = int(git(self.repo.remote, "rev-list", "--count", f"{self.repo.bug_sha}..agent/fix-{issue}"))
                heads[issue] = git(self.repo.remote, "rev-parse", f"agent/fix-{issue}")
            except Exception:
                commits[issue] = 0
        per = {i: self.seen.of(FixCommitted, i) for i in issues}
        prs = Counter(str(p.get("head", p.get("branch", ""))) for p in pulls(self.repo.remote))
        result.lost_issues = sum(1 for found in per.values() if not found)
        result.duplicate("events", extra(len(found) for found in per.values() if found))
        result.duplicate("commits", extra(commits.values()))
        result.duplicate("pull_requests", extra(prs.values()))
        _audit(result, self.seen, issues)
        announced = {f.commit_sha for found in per.values() for f in found}
        stuck = outbox_rows(self.root / "data")
        result.unaudited_side_effects = sum(1 for head in heads.values() if head not in announced) + stuck
        result.observed.update({"fix_committed": {issues[i]: len(f) for i, f in per.items()},
                                "commits": {issues[i]: n for i, n in commits.items()}, "pull_requests": dict(prs),
                                "outbox_left": stuck})  # fmt: skip
        result.checks["one FixCommitted for each pushed commit"] = all(
            len(per[i]) == 1 and per[i][0].commit_sha == heads.get(i) for i in issues
        )


RELEASE_STEPS = {
    "gate": ("releaser.gate", DeploymentStage.STAGING),
    "merge": ("releaser.merge", DeploymentStage.STAGING),
    "staging_deploy": ("releaser.deploy", DeploymentStage.STAGING),
    "staging_watch": ("releaser.watch", DeploymentStage.STAGING),
    "production_deploy": ("releaser.deploy", DeploymentStage.PRODUCTION),
}


@dataclass
class ReleaserStack(ServiceStack):
    service: str = "releaser"
    steps: tuple[str, ...] = tuple(RELEASE_STEPS)
    target: h.Target | None = None
    _deployer: Any = None
    _traffic: Any = None

    async def up(self) -> None:
        self.target = h.write_target(h.make_repo(self.root / "target"), release={"staging_watch_s": 3.0,
                                                                                 "production_watch_s": 2.0})  # fmt: skip
        self._deployer = await deploy_initial(self.target)
        self._traffic = h.traffic(f"{self.target.staging.url}/work", f"{self.target.production.url}/work")
        await self._traffic.__aenter__()
        self.env = test_env(self.b.bootstrap, self.b.prefix, self.root / "releaser-data", MEDIC_TARGET_FILE=str(self.target.toml),
                            MEDIC_LEASE_TTL_S="2", MEDIC_LOG_FORMAT="text")  # fmt: skip
        await self.control()
        await self.start("medic-releaser")

    async def down(self) -> None:
        await super().down()
        if self._traffic is not None:
            await self._traffic.__aexit__(None, None, None)
        if self._deployer is not None:
            await self._deployer.stop_all()

    async def send(self, n: int, step: str) -> str:
        assert self.target is not None
        fix = h.fix_event(self.target.repo, issue_id=f"iss_step_{n}", behaviour=None, files={f"step_{n}.txt": f"{n}\n"},
                          severity=Severity.P1, fingerprint=f"fp-step-{n}")  # fmt: skip
        await h.publish(self.b.bootstrap, self.b.topics, fix)
        return fix.issue_id

    def reached(self, step: str, issue_id: str) -> bool:
        action, stage = RELEASE_STEPS[step]
        return any(a.action == action and a.details.get("stage") == stage.value for a in self.seen.of(ActionRecorded, issue_id))

    def done(self, issue_id: str) -> bool:
        return any(r.stage is DeploymentStage.PRODUCTION for r in self.seen.of(DeploymentResult, issue_id))

    async def kill(self) -> None:
        await self.kill_and_restart("medic-releaser")

    async def control(self) -> None:
        await h.publish(self.b.bootstrap, self.b.topics, h.control_state(FULL))

    def measure(self, result: FaultResult, issues: dict[str, str]) -> None:
        results = [r for i in issues for r in self.seen.of(DeploymentResult, i)]
        per_stage = Counter((r.issue_id, r.stage) for r in results)
        result.lost_issues = sum(1 for i in issues if (i, DeploymentStage.PRODUCTION) not in per_stage)
        result.duplicate("deploys", extra(per_stage.values()))
        notices = [a for i in issues for a in self.seen.of(ActionRecorded, i) if a.action == "releaser.notify"]
        result.duplicate("notifications", extra(Counter((n.issue_id, n.summary) for n in notices).values()))
        _audit(result, self.seen, issues, exclude=("releaser.notify",))
        deployed = {(a.issue_id, a.details.get("stage")) for i in issues for a in self.seen.of(ActionRecorded, i)
                    if a.action == "releaser.deploy"}  # fmt: skip
        unaudited = sum(1 for (issue, stage) in per_stage if (issue, stage.value) not in deployed)
        stuck = outbox_rows(self.root / "releaser-data")
        result.unaudited_side_effects = unaudited + stuck
        result.observed.update({"results": sorted(f"{issues[r.issue_id]}:{r.stage.value}:{r.outcome.value}" for r in results),
                                "outbox_left": stuck})  # fmt: skip
        result.checks["every fix promoted on both stages"] = all(
            any(r.issue_id == i and r.stage is s and r.outcome is DeploymentOutcome.PROMOTED for r in results)
            for i in issues
            for s in (DeploymentStage.STAGING, DeploymentStage.PRODUCTION)
        )


STACKS: dict[str, Maker] = {
    "watcher": WatcherStack,
    "investigator": InvestigatorStack,
    "implementer": ImplementerStack,
    "releaser": ReleaserStack,
}
