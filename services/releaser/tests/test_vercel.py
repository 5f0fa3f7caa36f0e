"""The Vercel deployer against a local server speaking the Vercel REST API."""

from __future__ import annotations

import pytest

from medic_contracts import DeploymentStage
from medic_releaser.adapters.deployers import DeploymentStatus, VercelDeployer
from medic_releaser.config import DeployerSection
from medic_releaser.domain.errors import DeployError

from .fakes import FakeVercel, serve

PROD, STAGING = DeploymentStage.PRODUCTION, DeploymentStage.STAGING


def section(url: str, **extra: object) -> DeployerSection:
    return DeployerSection.model_validate(
        {"kind": "vercel", "project": "prj_shop", "git_repo": "acme/shop", "api_url": url, "team_id": "team_1",
         "staging_alias": "staging.shop.example", **extra}
    )  # fmt: skip


async def ready(deployer: VercelDeployer, stage: DeploymentStage, dep_id: str) -> DeploymentStatus:
    from medic_releaser.domain.runs import DeploymentRef

    for _ in range(10):
        status = await deployer.status(stage=stage, deployment=DeploymentRef(id=dep_id))
        if status is not DeploymentStatus.BUILDING:
            return status
    return DeploymentStatus.BUILDING


async def test_deploy_from_a_git_ref_waits_for_ready_promotes_and_instantly_rolls_back() -> None:
    fake = FakeVercel()
    async with serve(fake.app()) as url:
        deployer = VercelDeployer(section(url), token=fake.token)
        assert await deployer.current(stage=PROD) is None
        first = await deployer.start(stage=PROD, ref="main", sha="a" * 40, key="run1:production")
        assert fake.deployments[first.id]["gitSource"] == {"type": "github", "org": "acme", "repo": "shop", "ref": "main",
                                                           "sha": "a" * 40}  # fmt: skip
        assert fake.deployments[first.id]["target"] == "production"
        assert await deployer.status(stage=PROD, deployment=first) is DeploymentStatus.BUILDING
        assert await ready(deployer, PROD, first.id) is DeploymentStatus.READY
        await deployer.activate(stage=PROD, deployment=first)
        assert (await deployer.current(stage=PROD)) == first.model_copy(update={"ref": "main", "sha": "a" * 40})

        second = await deployer.start(stage=PROD, ref="main", sha="b" * 40, key="run2:production")
        assert await ready(deployer, PROD, second.id) is DeploymentStatus.READY
        await deployer.activate(stage=PROD, deployment=second)
        assert fake.production == second.id
        # Instant rollback to the previous production deployment.
        await deployer.rollback(stage=PROD, to=first, failed=second, key="run2:production:rollback")
        assert fake.production == first.id
        assert all(params.get("teamId") == "team_1" for _, _, params in fake.calls)


async def test_an_ambiguous_deploy_is_found_by_its_key_and_never_created_twice() -> None:
    fake = FakeVercel()
    async with serve(fake.app()) as url:
        deployer = VercelDeployer(section(url), token=fake.token)
        started = await deployer.start(stage=STAGING, ref="staging", sha="c" * 40, key="run3:staging")
        assert await deployer.find(stage=STAGING, key="run3:staging") == started
        again = await deployer.start(stage=STAGING, ref="staging", sha="c" * 40, key="run3:staging")
        assert again.id == started.id and len(fake.deployments) == 1
        assert await deployer.find(stage=STAGING, key="unknown") is None


async def test_staging_is_aliased_and_rolled_back_by_re_aliasing() -> None:
    fake = FakeVercel(polls_to_ready=1)
    async with serve(fake.app()) as url:
        deployer = VercelDeployer(section(url), token=fake.token)
        old = await deployer.start(stage=STAGING, ref="staging", sha="d" * 40, key="k1")
        assert await ready(deployer, STAGING, old.id) is DeploymentStatus.READY
        await deployer.activate(stage=STAGING, deployment=old)
        new = await deployer.start(stage=STAGING, ref="staging", sha="e" * 40, key="k2")
        assert fake.deployments[new.id]["target"] is None  # a preview deployment
        await ready(deployer, STAGING, new.id)
        await deployer.activate(stage=STAGING, deployment=new)
        assert (await deployer.current(stage=STAGING)) is not None and fake.aliases["staging.shop.example"] == new.id
        await deployer.rollback(stage=STAGING, to=old, failed=new, key="k2:rollback")
        assert fake.aliases["staging.shop.example"] == old.id


async def test_failed_builds_bad_tokens_and_missing_previous_deployments_are_clear_errors() -> None:
    fake = FakeVercel(failing_shas={"f" * 40})
    async with serve(fake.app()) as url:
        deployer = VercelDeployer(section(url), token=fake.token)
        broken = await deployer.start(stage=PROD, ref="main", sha="f" * 40, key="k")
        assert await ready(deployer, PROD, broken.id) is DeploymentStatus.ERROR
        with pytest.raises(DeployError, match="not ready"):
            await deployer.activate(stage=PROD, deployment=broken)
        with pytest.raises(DeployError, match="no previous production deployment"):
            await deployer.rollback(stage=PROD, to=None, failed=broken, key="k:rollback")
        intruder = VercelDeployer(section(url), token="wrong")
        with pytest.raises(DeployError, match="403: Not authorized"):
            await intruder.current(stage=PROD)
    with pytest.raises(DeployError, match="VERCEL_TOKEN"):
        VercelDeployer(section("http://127.0.0.1:9"), token="")
