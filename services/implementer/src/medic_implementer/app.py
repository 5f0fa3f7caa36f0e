"""Builds the implementer service process."""

from __future__ import annotations

from pathlib import Path

from medic_contracts import (
    ApprovalRequested,
    CommandName,
    DeploymentResult,
    DiagnosisReady,
    FixCommitted,
    TopicName,
    load_target,
    section,
)
from medic_runtime import ServiceRuntime, run_service

from . import handlers
from .adapters.forge import Forge, build_forge, repository_name
from .adapters.llm import LlmSection, build_proposer
from .adapters.signing import CommitSigner
from .adapters.store import metadata
from .adapters.testrun import SandboxLimits
from .domain.release_gate import ReleaseGate
from .job import FixOptions
from .settings import ImplementerSettings
from .worker import FIX_WORK, FixWorker

__all__ = ["LlmSection", "build", "main"]


def build(settings: ImplementerSettings, *, forge: Forge | None = None) -> ServiceRuntime:
    """Wire the implementer: DiagnosisReady → ``fix`` work item → worker; approve/reject commands; the
    learning loop (DeploymentResult and feedback commands become strategy outcomes).

    ``forge`` replaces the one the target's ``[forge]`` section names (tests, embedding).
    """
    settings.scrub_secret_environment()  # the settings hold the key now: no child inherits it
    if settings.target_file is None:
        # No target yet (a bare dev stack): run, stay healthy, and say in the audit trail that nothing is fixed.
        bare = ServiceRuntime(settings, extra_tables=(metadata,))
        bare.consume(TopicName.DIAGNOSES_READY, DiagnosisReady)(handlers.record_unconfigured)
        return bare
    target = load_target(settings.target_file)
    llm = section(LlmSection, target.llm, name="llm")
    repo = target.repo_path()
    runtime = ServiceRuntime(settings, extra_tables=(metadata,))
    runtime.publishes(FixCommitted, ApprovalRequested)
    options = FixOptions(
        workspace_root=settings.worktree_root(),
        limits=SandboxLimits(
            timeout_s=float(target.test_timeout_s),
            cpu_s=settings.test_cpu_seconds,
            memory_bytes=settings.test_memory_mb << 20,
            isolate_network=settings.test_isolate_network,
            tool_paths=settings.tool_paths,
            sandbox_uid=settings.sandbox_uid,
            sandbox_gid=settings.sandbox_gid,
            max_processes=settings.test_max_processes,
        ),
        signer=CommitSigner(
            key=settings.signing_key,
            format=settings.signing_format,
            allowed_signers=settings.allowed_signers,
            committer_email=settings.committer_email,
        ),
        max_candidates=settings.max_candidates,
        proposer=build_proposer(llm, settings=settings, runtime=runtime),
        labels=settings.pr_labels,
        gate=ReleaseGate(min_confidence=settings.fix_min_confidence, require_reproduction=settings.fix_require_reproduction),
    )
    worker = FixWorker(
        rt=runtime,
        target=target,
        repo=repo,
        forge=forge or build_forge(target.forge, base_dir=Path(target.base_dir), work_dir=settings.forge_dir(), repo=repo),
        options=options,
        repository=repository_name(target.forge, repo),
    )
    on_diagnosis, on_approve, on_reject = handlers.build_handlers(worker)
    runtime.consume(TopicName.DIAGNOSES_READY, DiagnosisReady)(on_diagnosis)
    runtime.on_command(CommandName.APPROVE)(on_approve)
    runtime.on_command(CommandName.REJECT)(on_reject)
    on_deployment, on_feedback = handlers.build_learning_handlers(worker)
    runtime.consume(TopicName.DEPLOYMENTS_RESULT, DeploymentResult)(on_deployment)
    runtime.on_command(CommandName.FEEDBACK)(on_feedback)
    runtime.worker(FIX_WORK, concurrency=settings.fix_concurrency, lease_s=settings.fix_lease_s)(worker.run_fix)
    runtime.every(60.0, name="expire-approvals")(worker.expire_approvals_tick)
    return runtime


def main() -> None:
    """Console script ``medic-implementer``."""
    run_service(ImplementerSettings, build)
