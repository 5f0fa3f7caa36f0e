"""A whole rollout through the Vercel deployer: local Vercel REST server, real git remote, real broker."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from medic_contracts import (
    AutonomyLevel,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    MedicConfig,
    Severity,
    TopicRegistry,
)
from medic_releaser.adapters.deployers import VercelDeployer
from medic_releaser.app import build
from medic_releaser.config import DeployerSection
from medic_releaser.settings import ReleaserSettings

from .fakes import FakeVercel, serve
from .harness import EventLog, control_state, fix_event, make_repo, publish, traffic

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def stage_app(fake: FakeVercel, remote: Path, stage: str, bad_fix: dict[str, str]) -> FastAPI:
    """What Vercel serves on a stage: it fails when the serving deployment contains the bad fix (production only)."""
    api = FastAPI()
    counts = {"ok": 0, "error": 0}

    def serving_sha() -> str:
        dep_id = fake.production if stage == "production" else fake.aliases.get("staging.shop.example")
        return str(fake.deployments[dep_id]["gitSource"].get("sha", "")) if dep_id else ""

    def broken() -> bool:
        sha, fix = serving_sha(), bad_fix.get("sha")
        if stage != "production" or not sha or not fix:
            return False
        check = subprocess.run(["git", "merge-base", "--is-ancestor", fix, sha], cwd=remote, check=False)
        return check.returncode == 0

    @api.get("/work")
    async def work() -> Any:
        failed = await asyncio.to_thread(broken)
        counts["error" if failed else "ok"] += 1
        return PlainTextResponse("error" if failed else "ok", status_code=500 if failed else 200)

    @api.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> str:
        return (
            "# TYPE http_requests_total counter\n"
            f'http_requests_total{{status="200"}} {counts["ok"]}\nhttp_requests_total{{status="500"}} {counts["error"]}\n'
            "# TYPE http_request_duration_seconds summary\n"
            f"http_request_duration_seconds_sum {0.002 * (counts['ok'] + counts['error'])}\n"
            f"http_request_duration_seconds_count {counts['ok'] + counts['error']}\n"
        )

    return api


async def test_vercel_rollout_promotes_staging_then_instantly_rolls_production_back(
    tmp_path: Path, service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    repo = make_repo(tmp_path / "repo")
    fake = FakeVercel(polls_to_ready=2)
    bad_fix: dict[str, str] = {}
    async with (
        serve(fake.app()) as api_url,
        serve(stage_app(fake, repo.remote, "staging", bad_fix)) as staging_url,
        serve(stage_app(fake, repo.remote, "production", bad_fix)) as production_url,
    ):
        section = {"kind": "vercel", "project": fake.project, "git_repo": "acme/shop", "api_url": api_url,
                   "staging_alias": "staging.shop.example", "poll_s": 0.2}  # fmt: skip
        deployer = VercelDeployer(DeployerSection.model_validate(section), token=fake.token)
        # What Vercel served before Medic: main in production, staging aliased.
        main_sha = repo.head("main")
        for stage in (DeploymentStage.PRODUCTION, DeploymentStage.STAGING):
            dep = await deployer.start(stage=stage, ref="main", sha=main_sha, key=f"initial-{stage.value}")
            for _ in range(3):
                await deployer.status(stage=stage, deployment=dep)
            await deployer.activate(stage=stage, deployment=dep)
        initial_production = fake.production

        def checks(url: str) -> str:
            return f'health = ["{url}/health"]\nmetrics_url = "{url}/metrics"\n'

        toml = tmp_path / "medic.toml"
        toml.write_text(
            f'[target]\nname = "shop"\nrepo = "{repo.work}"\nlanguage = "typescript"\ntest_command = "true"\n'
            "[release]\nstaging_watch_s = 1.5\nproduction_watch_s = 4\nsample_interval_s = 0.25\nbaseline_s = 0.5\n"
            "threshold = 2\nblocked_retry_s = 0.5\n"
            f"[release.staging]\n{checks(staging_url)}[release.production]\n{checks(production_url)}"
            f'[deployer]\nkind = "vercel"\nproject = "{fake.project}"\ngit_repo = "acme/shop"\napi_url = "{api_url}"\n'
            'staging_alias = "staging.shop.example"\npoll_s = 0.2\n'
            f'[forge]\nkind = "local"\nremote = "{repo.remote}"\n'
        )  # fmt: skip
        await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
        fix = fix_event(repo, issue_id="iss_vercel", behaviour={"version": 2}, severity=Severity.P1)
        bad_fix["sha"] = fix.commit_sha
        settings = service_settings("releaser", cls=ReleaserSettings, target_file=toml, data_dir=tmp_path / "releaser")
        rt = build(settings, deployer=deployer)
        await rt.start()
        try:
            async with EventLog(kafka_bootstrap, topics) as log, traffic(f"{staging_url}/work", f"{production_url}/work"):
                await publish(kafka_bootstrap, topics, fix)
                done = await log.wait_for(
                    lambda ev: [e for e in ev if isinstance(e, DeploymentResult) and e.stage is DeploymentStage.PRODUCTION
                                and e.outcome is DeploymentOutcome.ROLLED_BACK],
                    timeout=60,
                )  # fmt: skip
        finally:
            await rt.stop()
    staging = [e for e in log.of(DeploymentResult) if e.stage is DeploymentStage.STAGING]
    assert [r.outcome for r in staging] == [DeploymentOutcome.PROMOTED]
    result: DeploymentResult = done[0]
    assert result.deployment_id in fake.deployments and result.deployment_url
    assert result.deployment_url.endswith(".vercel.app")
    assert fake.production == initial_production  # Vercel instant rollback to the previous production deployment
    paths = [path for method, path, _ in fake.calls if method == "POST"]
    assert f"/v10/projects/{fake.project}/promote/{result.deployment_id}" in paths
    assert f"/v1/projects/{fake.project}/rollback/{initial_production}" in paths
    assert f"/v2/deployments/{staging[0].deployment_id}/aliases" in paths
    assert repo.behaviour_on("main")["version"] == 1 and repo.behaviour_on("staging")["version"] == 1
